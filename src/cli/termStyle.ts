import { styleText } from 'node:util';
// @ts-expect-error TS1479: string-width is ESM-only. esbuild bundles it into the CJS build, and Node ≥ 20.19 (the tests, under tsx) require()s ESM.
import stringWidth from 'string-width';

/**
 * The symbols of the CLI's lines, in Unicode and for terminals that lack it. Each Unicode one is
 * in DejaVu Sans Mono, the usual Linux terminal font: ⏸ (U+23F8) is in none of the monospace
 * fonts here and showed as a box in VS Code's terminal, so a pause is ‖.
 */
export interface Glyphs {
  readonly sep: string;
  readonly note: string;
  readonly ellipsis: string;
  readonly pause: string;
  readonly play: string;
  readonly stop: string;
  readonly ok: string;
  readonly warn: string;
  readonly fail: string;
}

export const UNICODE: Glyphs = { sep: ' · ', note: '·', ellipsis: '…', pause: '‖', play: '▶', stop: '■', ok: '✔', warn: '▲', fail: '✖' };
export const ASCII: Glyphs = { sep: ' | ', note: '-', ellipsis: '...', pause: '||', play: '>', stop: '#', ok: '+', warn: '!', fail: 'x' };

/** What a piece of text is, for its colour. */
export type Tone = 'passed' | 'failed' | 'error' | 'paused' | 'stopping';

const COLOURS: Record<Tone, Parameters<typeof styleText>[0]> = {
  passed: 'green',
  failed: 'red',
  error: 'yellow',
  paused: 'cyan',
  stopping: 'yellow',
};

export interface TermStyle {
  readonly glyphs: Glyphs;
  readonly color: boolean;
  /** Redraw one live line with `\r` and erase-line: not on a terminal without cursor control. */
  readonly redraw: boolean;
}

/**
 * How to write to a stream, from the environment. On a terminal: ASCII where it cannot show
 * the symbols (`TERM=dumb`, the Linux console's font, a locale that is not UTF-8), and no
 * redraws on `TERM=dumb`. Into a pipe or a file the text is UTF-8 whatever the locale (a log
 * read later, elsewhere). Colour on a terminal unless `NO_COLOR`, or anywhere with
 * `FORCE_COLOR` (read as Node does: empty, 1, 2, 3 or true forces colour, anything else turns
 * it off).
 */
export function termStyle(isTTY: boolean, env: NodeJS.ProcessEnv = process.env): TermStyle {
  const term = env.TERM ?? '';
  const dumb = term === 'dumb';
  // POSIX precedence; no locale set at all is common in containers and over ssh, whose terminals are UTF-8.
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || '';
  const unicode = !isTTY || (!dumb && term !== 'linux' && (locale === '' || /utf-?8/i.test(locale)));
  let color: boolean;
  if (env.FORCE_COLOR !== undefined) color = ['', '1', '2', '3', 'true'].includes(env.FORCE_COLOR);
  else if (env.NO_COLOR) color = false;
  else color = isTTY && !dumb;
  return { glyphs: unicode ? UNICODE : ASCII, color, redraw: isTTY && !dumb };
}

/** `text` in the colour of its tone, when colour is on. */
export function paint(style: Pick<TermStyle, 'color'>, tone: Tone | undefined, text: string): string {
  // validateStream: false: Node 22+ would otherwise look at stdout, and these lines go to stderr.
  return style.color && tone ? styleText(COLOURS[tone], text, { validateStream: false }) : text;
}

/** Columns the text takes on a terminal (wide characters count 2, escape codes 0). */
export function displayWidth(text: string): number {
  return stringWidth(text);
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** The longest start of `text` that takes at most `width` columns, cut between characters as seen (never inside one). */
export function cutToWidth(text: string, width: number): string {
  if (stringWidth(text) <= width) return text;
  let out = '';
  let used = 0;
  for (const { segment } of graphemes.segment(text)) {
    const w = stringWidth(segment);
    if (used + w > width) break;
    out += segment;
    used += w;
  }
  return out;
}
