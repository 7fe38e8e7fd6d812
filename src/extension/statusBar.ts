import * as vscode from 'vscode';
import { Commands } from './constants';
import { hhmm, statusBarState, statusBarText, type StatusBarState } from './model/statusBarState';
import type { RunRegistry } from './runs';

/** One status bar item, driven by the state machine in model/statusBarState.ts. */
export class RunStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('resumable.status', vscode.StatusBarAlignment.Left, 50);
  private state: StatusBarState = { kind: 'hidden' };
  private ticker: NodeJS.Timeout | undefined;
  private readonly sub: vscode.Disposable;
  private readonly rendered = new vscode.EventEmitter<string>();
  /** Fires with the text each time it changes ("" when hidden): what tests wait for. */
  readonly onDidRender = this.rendered.event;
  private shown = '';

  constructor(private readonly registry: RunRegistry) {
    this.item.name = 'Resumable';
    this.sub = registry.onDidChange(() => this.update());
  }

  private update(): void {
    this.state = statusBarState(this.registry.allReports, Date.now());
    this.render();
    // Tick once a second only while a countdown is shown.
    if (this.state.kind === 'paused' && !this.ticker) this.ticker = setInterval(() => this.tick(), 1000);
    if (this.state.kind !== 'paused' && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  private tick(): void {
    if (this.state.kind === 'paused' && Date.now() >= this.state.until) this.update();
    else this.render();
  }

  /** The text shown now ("" when hidden). */
  get text(): string {
    return this.shown;
  }

  private show(text: string): void {
    if (text === this.shown) return;
    this.shown = text;
    this.rendered.fire(text);
  }

  private render(): void {
    const s = this.state;
    if (s.kind === 'hidden') {
      this.item.hide();
      this.show('');
      return;
    }
    this.item.text = statusBarText(s, Date.now());
    this.item.backgroundColor = s.kind === 'paused' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    const file = encodeURIComponent(JSON.stringify([vscode.Uri.file(s.experimentFile)]));
    const dir = encodeURIComponent(JSON.stringify([vscode.Uri.file(s.runDir)]));
    const md = new vscode.MarkdownString(undefined, true);
    md.isTrusted = { enabledCommands: [Commands.resume, Commands.openRunFolder, Commands.stop] };
    if (s.kind === 'paused') {
      md.appendMarkdown(`**${s.name}** is paused on a rate limit until **${hhmm(s.until)}**, then resumes by itself.\n\n`);
      md.appendMarkdown(`Source: \`${s.source ?? 'unknown'}\` · pauses so far: ${s.pauseCount} · ${s.done}/${s.total} done\n\n`);
    } else {
      md.appendMarkdown(`**${s.name}**: ${s.done}/${s.total} units done\n\n`);
    }
    for (const line of s.details) md.appendText(line).appendMarkdown('\n\n');
    md.appendMarkdown(`[Open run folder](command:${Commands.openRunFolder}?${dir}) · [Stop](command:${Commands.stop}?${file})`);
    this.item.tooltip = md;
    this.item.command = { command: Commands.openRunFolder, title: 'Open Run Folder', arguments: [vscode.Uri.file(s.runDir)] };
    this.item.show();
    this.show(this.item.text);
  }

  dispose(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.sub.dispose();
    this.rendered.dispose();
    this.item.dispose();
  }
}
