import { spawn } from 'node:child_process';

/**
 * Runs a command on a real pseudo-terminal (Python's pty module: the command is the session
 * leader, the pty its controlling terminal, stdin, stdout and stderr). `hangup()` does what a
 * closed terminal window does: closes the master side (the kernel hangs up the terminal and
 * sends SIGHUP to the session leader) and sends SIGHUP as well.
 */
const DRIVER = String.raw`
import fcntl, json, os, pty, select, signal, struct, sys, termios
argv = json.loads(sys.argv[1])
size = json.loads(sys.argv[2]) if len(sys.argv) > 2 else None
pid, fd = pty.fork()
if pid == 0:
    try:
        if size:
            # Before the command starts, so it reads this size at once (no resize race).
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", size.get("rows", 24), size["cols"], 0, 0))
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
def say(msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()
say({"pid": pid})
master = fd
reading = True
while True:
    r, _, _ = select.select([0] + ([master] if master is not None and reading else []), [], [], 0.1)
    if master is not None and master in r:
        try:
            data = os.read(master, 65536)
        except OSError:
            data = b""
        if data:
            say({"out": data.decode("utf-8", "replace")})
        else:
            # EIO: no process has the terminal open any more (nohup moved every stream
            # away). A terminal window stays open then: keep the master, stop reading it.
            reading = False
    if 0 in r:
        line = sys.stdin.readline()
        if line.strip() == "hangup" and master is not None:
            os.close(master)
            master = None
            os.kill(pid, signal.SIGHUP)
        elif line.strip().startswith("kill "):
            os.kill(pid, int(line.split()[1]))
        elif line == "":
            os.kill(pid, signal.SIGKILL)
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        say({"exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None, "signal": sig})
        break
`;

export interface PtyExit {
  code: number | null;
  signal: number | null;
  output: string;
}

export interface PtyProcess {
  /** Pid of the command (the session leader of the pty). */
  readonly pid: Promise<number>;
  /** What the command wrote to the terminal so far. */
  output(): string;
  hangup(): void;
  /** Sends a signal to the command without closing the terminal. */
  signal(sig: NodeJS.Signals): void;
  readonly done: Promise<PtyExit>;
}

const SIGNALS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/** The terminal's window size (default: what the kernel gives a new pty, 0×0, which Node reads as no width). */
export interface PtySize {
  readonly cols: number;
  readonly rows?: number;
}

export function ptyStart(argv: string[], cwd: string, env: NodeJS.ProcessEnv = {}, size?: PtySize): PtyProcess {
  const py = spawn('python3', ['-c', DRIVER, JSON.stringify(argv), ...(size ? [JSON.stringify(size)] : [])], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let output = '';
  let buf = '';
  let setPid!: (pid: number) => void;
  let setExit!: (e: PtyExit) => void;
  const pid = new Promise<number>((r) => (setPid = r));
  const done = new Promise<PtyExit>((r) => (setExit = r));
  py.stdout.setEncoding('utf8');
  py.stdout.on('data', (d: string) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
      const msg = JSON.parse(buf.slice(0, nl)) as { pid?: number; out?: string; exit?: number | null; signal?: number | null };
      buf = buf.slice(nl + 1);
      if (msg.pid !== undefined) setPid(msg.pid);
      if (msg.out !== undefined) output += msg.out;
      if ('exit' in msg) setExit({ code: msg.exit ?? null, signal: msg.signal ?? null, output });
    }
  });
  py.on('exit', (code) => setExit({ code: null, signal: null, output: `${output}\n[pty driver exited with ${code} before the command]` }));
  return {
    pid,
    output: () => output,
    hangup: () => py.stdin.write('hangup\n'),
    signal: (sig) => py.stdin.write(`kill ${SIGNALS[sig] ?? sig}\n`),
    done: done.finally(() => py.stdin.end()),
  };
}
