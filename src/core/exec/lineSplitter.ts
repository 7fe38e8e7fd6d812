/** What a splitter gives: a whole line, or the news that one was longer than the cap (its bytes dropped). */
export type SplitLine =
  { readonly kind: 'line'; readonly text: string } | { readonly kind: 'oversized'; readonly bytes: number; readonly head: string };

/**
 * Cuts a byte stream into `\n`-terminated UTF-8 lines, holding at most `maxBytes` of a line:
 * past that the rest of the line is counted and dropped, so a worker that prints without end
 * cannot fill the runner's memory.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private held = 0;
  /** Bytes of the current line dropped past the cap (0: not oversized). */
  private dropped = 0;
  private head = '';

  constructor(
    private readonly maxBytes: number,
    private readonly emit: (l: SplitLine) => void,
  ) {}

  push(chunk: Buffer): void {
    let from = 0;
    while (from < chunk.length) {
      const nl = chunk.indexOf(10, from);
      const end = nl === -1 ? chunk.length : nl;
      this.take(chunk.subarray(from, end));
      if (nl === -1) return;
      this.endLine();
      from = nl + 1;
    }
  }

  /** The stream ended: a last line without its newline is still a line. */
  end(): void {
    if (this.held > 0 || this.dropped > 0) this.endLine();
  }

  private take(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.dropped > 0 || this.held + piece.length > this.maxBytes) {
      if (this.dropped === 0) {
        this.head = Buffer.concat([...this.parts, piece])
          .subarray(0, 200)
          .toString('utf8');
        this.dropped = this.held;
        this.parts = [];
        this.held = 0;
      }
      this.dropped += piece.length;
      return;
    }
    // Copied: the chunk's memory is the stream's to reuse.
    this.parts.push(Buffer.from(piece));
    this.held += piece.length;
  }

  private endLine(): void {
    if (this.dropped > 0) this.emit({ kind: 'oversized', bytes: this.dropped, head: this.head });
    else {
      const text = (this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts)).toString('utf8');
      if (text.trim() !== '') this.emit({ kind: 'line', text: text.endsWith('\r') ? text.slice(0, -1) : text });
    }
    this.parts = [];
    this.held = 0;
    this.dropped = 0;
    this.head = '';
  }
}
