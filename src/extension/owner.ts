import type * as vscode from 'vscode';

/** The one owner of everything the extension creates; disposed (in reverse) on deactivate. */
export class DisposableOwner implements vscode.Disposable {
  private readonly items: vscode.Disposable[] = [];

  add<T extends vscode.Disposable>(d: T): T {
    this.items.push(d);
    return d;
  }

  dispose(): void {
    for (const d of this.items.splice(0).reverse()) {
      try {
        d.dispose();
      } catch {
        // Keep disposing the rest.
      }
    }
  }
}
