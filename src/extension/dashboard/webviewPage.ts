import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/** A panel of ours: scripts on, reading only the bundles and the dashboard's styles, with our icon. */
export function createPanel(viewType: string, title: string, extensionUri: vscode.Uri): vscode.WebviewPanel {
  const panel = vscode.window.createWebviewPanel(viewType, title, vscode.ViewColumn.Active, {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media', 'dashboard')],
  });
  panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'resumable.svg');
  return panel;
}

/**
 * The page of a dashboard webview: a strict CSP (nothing but our own files, one script by its
 * nonce), the bundled `dist/<script>` and `media/dashboard/<styles>`, and a line shown until
 * the script has drawn.
 */
export function pageHtml(
  webview: vscode.Webview,
  extensionUri: vscode.Uri,
  o: { readonly script: string; readonly styles: readonly string[]; readonly title: string; readonly loading: string },
): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', o.script));
  const css = (name: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'dashboard', name)).toString();
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data:`,
    `style-src ${webview.cspSource}`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${o.styles.map((s) => `<link rel="stylesheet" href="${css(s)}">`).join('\n')}
<title>${o.title}</title>
</head>
<body>
<main id="app" aria-busy="true"><p class="muted">${o.loading}</p></main>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
}

/**
 * The test hook's questions to a page and its answers, matched by number. A page still loading
 * has no listener yet: no answer within 2 s is undefined, and the test asks again.
 */
export class PageQueries<T> {
  private seq = 0;
  private readonly answers = new Map<number, (s: T) => void>();

  ask(send: (seq: number) => void): Promise<T | undefined> {
    const seq = ++this.seq;
    return new Promise<T | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.answers.delete(seq);
        resolve(undefined);
      }, 2000);
      this.answers.set(seq, (st) => {
        clearTimeout(timer);
        resolve(st);
      });
      send(seq);
    });
  }

  answer(seq: number, state: T): void {
    this.answers.get(seq)?.(state);
    this.answers.delete(seq);
  }
}
