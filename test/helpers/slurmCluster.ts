import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * A real one-node Slurm (slurmctld + slurmd + munged from Debian) under a folder of its own,
 * as ../shared/notes/slurm-single-node.md describes. Every daemon is a child of this
 * process and is stopped by its pid in `stop()`, which never throws.
 */
export interface Cluster {
  readonly root: string;
  /** Environment for Slurm clients (SLURM_CONF). */
  readonly env: NodeJS.ProcessEnv;
  readonly jobcomp: string;
  sh(cmd: string, args: string[]): string;
  stop(): Promise<void>;
}

const PACKAGES = ['slurmctld', 'slurmd', 'slurm-client', 'munge'];

/** Installs the Debian packages when missing (the test command runs as root on CI and here). */
export function ensureSlurmInstalled(): void {
  const missing = ['slurmctld', 'slurmd', 'sbatch', 'munged'].filter(
    (b) => spawnSync('sh', ['-c', `command -v ${b} || test -x /usr/sbin/${b}`]).status !== 0,
  );
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0)
    throw new Error(
      `Slurm is not installed (${missing.join(', ')} missing) and this is not root: apt-get install -y --no-install-recommends ${PACKAGES.join(' ')}`,
    );
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { env, stdio: 'ignore', timeout: 300_000 });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...PACKAGES], { env, stdio: 'ignore', timeout: 300_000 });
}

const sbin = (b: string) => (fs.existsSync(`/usr/sbin/${b}`) ? `/usr/sbin/${b}` : b);

export async function startCluster(cpus = 8): Promise<Cluster> {
  ensureSlurmInstalled();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'resumable-slurm-'));
  fs.chmodSync(root, 0o755);
  const children: ChildProcess[] = [];
  const munge = path.join(root, 'munge');
  fs.mkdirSync(munge, { mode: 0o755 });
  const uid = Number(execFileSync('id', ['-u', 'munge'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'munge'], { encoding: 'utf8' }).trim());
  execFileSync(sbin('mungekey'), ['--create', `--keyfile=${munge}/munge.key`]);
  fs.chownSync(munge, uid, gid);
  fs.chownSync(`${munge}/munge.key`, uid, gid);
  fs.chmodSync(`${munge}/munge.key`, 0o600);
  const log = (name: string) => fs.openSync(path.join(root, `${name}.out`), 'a');
  const start = (name: string, cmd: string, args: string[], o: { uid?: number; gid?: number } = {}) => {
    const child = spawn(cmd, args, { stdio: ['ignore', log(name), log(name)], ...o });
    child.on('error', () => undefined);
    children.push(child);
    return child;
  };
  start(
    'munged',
    sbin('munged'),
    [
      '-F',
      `--key-file=${munge}/munge.key`,
      `--socket=${munge}/munge.sock`,
      `--pid-file=${munge}/munged.pid`,
      `--log-file=${munge}/munged.log`,
      `--seed-file=${munge}/munged.seed`,
    ],
    { uid, gid },
  );
  await waitFor(() => fs.existsSync(`${munge}/munge.sock`), 10_000, 'munged socket');

  const node = os.hostname().split('.')[0]!;
  const conf = path.join(root, 'slurm.conf');
  const jobcomp = path.join(root, 'jobcomp.txt');
  const mem = Math.floor((os.freemem() / 1024 / 1024) * 0.9);
  for (const d of ['state', 'spool']) fs.mkdirSync(path.join(root, d));
  fs.writeFileSync(
    conf,
    [
      'ClusterName=resumabletest',
      `SlurmctldHost=${node}(127.0.0.1)`,
      'SlurmUser=root',
      'AuthType=auth/munge',
      'CredType=cred/munge',
      `AuthInfo=socket=${munge}/munge.sock,cred_expire=10`,
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      'JobCompType=jobcomp/filetxt',
      `JobCompLoc=${jobcomp}`,
      'MailProg=/bin/true',
      'ReturnToService=2',
      'SlurmdParameters=config_overrides',
      'KillWait=10',
      `StateSaveLocation=${root}/state`,
      `SlurmdSpoolDir=${root}/spool`,
      `SlurmctldPidFile=${root}/slurmctld.pid`,
      `SlurmdPidFile=${root}/slurmd.pid`,
      `SlurmctldLogFile=${root}/slurmctld.log`,
      `SlurmdLogFile=${root}/slurmd.log`,
      `NodeName=${node} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${mem} State=UNKNOWN`,
      `PartitionName=debug Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
      '',
    ].join('\n'),
  );
  const env = { ...process.env, SLURM_CONF: conf };
  start('slurmctld', sbin('slurmctld'), ['-D', '-f', conf]);
  start('slurmd', sbin('slurmd'), ['-D', '-f', conf]);
  const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { env, encoding: 'utf8', timeout: 30_000 });
  const cluster: Cluster = {
    root,
    env,
    jobcomp,
    sh,
    async stop() {
      // The note's order: cancel every job, wait for the queue to empty, shut down, then munged.
      try {
        sh('scancel', ['--full', '--user=root']);
        await waitFor(() => sh('squeue', ['-h', '-r']).trim() === '', 30_000, 'empty queue').catch(() => undefined);
        sh('scontrol', ['shutdown']);
      } catch {
        // The daemons may already be gone; they are killed by pid below either way.
      }
      for (const c of children.slice().reverse()) {
        if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) continue;
        const gone = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
        if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      }
    },
  };
  try {
    await waitFor(() => /idle|mix|alloc/.test(sh('sinfo', ['-h', '-o', '%T'])), 30_000, 'node idle in sinfo');
  } catch (e) {
    await cluster.stop();
    const tail = ['slurmctld.log', 'slurmd.log']
      .map((f) => {
        try {
          return `${f}:\n${fs.readFileSync(path.join(root, f), 'utf8').slice(-2000)}`;
        } catch {
          return '';
        }
      })
      .join('\n');
    throw new Error(`${(e as Error).message}\n${tail}`);
  }
  return cluster;
}

export async function waitFor(ok: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if (ok()) return;
    } catch {
      // Not ready yet (a client that cannot reach the daemon, a file not there).
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
