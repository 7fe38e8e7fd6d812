import * as path from 'node:path';
import * as vscode from 'vscode';
import { DiagnosticSource } from './constants';
import { engine } from './engine';
import { errorText, type Log } from './log';
import { hasSyntaxErrors, placeOf, relativeToExperiment, type LoaderErrorLike } from './loaderErrors';

const isExperiment = (d: vscode.TextDocument) => d.uri.scheme === 'file' && d.fileName.endsWith('.experiment.json');

/**
 * The loader's own verdict on an open experiment file, while typing: what `resumable run`
 * would refuse before anything runs (an unknown placeholder, a missing dataset, a bad id
 * field, a bad regex…), which the JSON Schema cannot know. Debounced per document; at most
 * one check per document at a time, and a check whose document changed meanwhile is
 * dropped (the newer text gets its own). Cleared when the document closes.
 */
export class ExperimentDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection(DiagnosticSource);
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Documents being checked now, and those that changed meanwhile (checked again after). */
  private readonly running = new Set<string>();
  private readonly again = new Set<string>();
  /** Documents whose last tab closed while the document lives on: no problems shown until it is shown or edited again. */
  private readonly hidden = new Set<string>();
  /** How long each document's last check took: a slow one (a big dataset) is checked less often. */
  private readonly lastMs = new Map<string, number>();
  private readonly subscriptions: vscode.Disposable[];
  private readonly firstPass: NodeJS.Timeout;
  private disposed = false;

  constructor(
    private readonly log: Log,
    private readonly delayMs = 400,
  ) {
    this.subscriptions = [
      vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d, 0)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length) this.schedule(e.document);
      }),
      vscode.workspace.onDidCloseTextDocument((d) => this.forget(d.uri)),
      // A closed tab: its document may live on a while (VS Code keeps models for reuse), its problems do not.
      vscode.window.tabGroups.onDidChangeTabs((e) => {
        for (const tab of e.closed) {
          const uri = tab.input instanceof vscode.TabInputText ? tab.input.uri : undefined;
          if (uri && !this.inSomeTab(uri)) this.forget(uri, true);
        }
        for (const tab of e.opened) {
          const uri = tab.input instanceof vscode.TabInputText ? tab.input.uri : undefined;
          const doc = uri && vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
          if (doc && !this.collection.has(doc.uri)) this.schedule(doc, 0);
        }
      }),
      // A dataset saved (or any other file): the open experiments may read it.
      vscode.workspace.onDidSaveTextDocument((d) => {
        if (isExperiment(d)) return;
        for (const doc of vscode.workspace.textDocuments) if (!this.hidden.has(doc.uri.toString())) this.schedule(doc);
      }),
    ];
    // Documents open before activation: after it returns (the check loads the engine).
    this.firstPass = setTimeout(() => vscode.workspace.textDocuments.forEach((d) => this.schedule(d)), 0);
  }

  /** What the Problems view holds for a document (for tests). */
  diagnosticsOf(uri: vscode.Uri): readonly vscode.Diagnostic[] {
    return this.collection.get(uri) ?? [];
  }

  private schedule(doc: vscode.TextDocument, delay?: number): void {
    if (this.disposed || !isExperiment(doc)) return;
    const key = doc.uri.toString();
    delay ??= Math.max(this.delayMs, 2 * (this.lastMs.get(key) ?? 0));
    this.hidden.delete(key);
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        void this.check(doc);
      }, delay),
    );
  }

  private async check(doc: vscode.TextDocument): Promise<void> {
    const key = doc.uri.toString();
    if (this.running.has(key)) {
      this.again.add(key);
      return;
    }
    this.running.add(key);
    const version = doc.version;
    const text = doc.getText();
    let diagnostics: vscode.Diagnostic[] | undefined;
    const started = performance.now();
    try {
      diagnostics = await this.diagnose(doc, text);
      this.lastMs.set(key, performance.now() - started);
    } catch (e) {
      this.log.error(`checking ${doc.fileName} failed: ${errorText(e)}`);
    } finally {
      this.running.delete(key);
    }
    if (this.disposed || doc.isClosed || this.hidden.has(key)) return;
    // A check asked for while this one ran: now (its debounce is over).
    if (this.again.delete(key)) return this.schedule(doc, 0);
    // Stale: the text changed while it was checked; its change's own check (debounced) will say.
    if (doc.version !== version) return;
    if (diagnostics) this.collection.set(doc.uri, diagnostics);
  }

  private async diagnose(doc: vscode.TextDocument, text: string): Promise<vscode.Diagnostic[]> {
    // The JSON language service reports a syntax error itself; the loader would only repeat it.
    if (hasSyntaxErrors(text)) return [];
    const file = doc.uri.fsPath;
    try {
      await engine().loadExperimentText(text, file);
      return [];
    } catch (e) {
      if (!(e instanceof Error) || e.name !== 'UserError') throw e;
      return [this.toDiagnostic(doc, file, e)];
    }
  }

  private toDiagnostic(doc: vscode.TextDocument, file: string, e: Error & LoaderErrorLike): vscode.Diagnostic {
    const cwd = process.cwd();
    const dir = path.dirname(file);
    const place = placeOf(doc.getText(), file, e, cwd);
    const range = new vscode.Range(doc.positionAt(place.start), doc.positionAt(place.end));
    // An error in this file is said without its location (the squiggle is it); one in a dataset with it.
    const message = relativeToExperiment(place.other ? e.message : (e.detail ?? e.message), cwd, dir);
    const d = new vscode.Diagnostic(range, message, vscode.DiagnosticSeverity.Error);
    d.source = DiagnosticSource;
    if (place.other) {
      const line = Math.max(0, (place.other.line ?? 1) - 1);
      d.relatedInformation = [
        new vscode.DiagnosticRelatedInformation(
          new vscode.Location(vscode.Uri.file(place.other.file), new vscode.Position(line, 0)),
          `${path.relative(dir, place.other.file)}${place.other.line ? `:${place.other.line}` : ''}`,
        ),
      ];
    }
    return d;
  }

  private inSomeTab(uri: vscode.Uri): boolean {
    const key = uri.toString();
    return vscode.window.tabGroups.all.some((g) =>
      g.tabs.some((t) => t.input instanceof vscode.TabInputText && t.input.uri.toString() === key),
    );
  }

  private forget(uri: vscode.Uri, hide = false): void {
    const key = uri.toString();
    if (hide) this.hidden.add(key);
    else this.hidden.delete(key);
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.again.delete(key);
    this.lastMs.delete(key);
    this.collection.delete(uri);
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.firstPass);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const s of this.subscriptions) s.dispose();
    this.collection.dispose();
  }
}
