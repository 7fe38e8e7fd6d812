import * as vscode from 'vscode';
import { DiagnosticSource } from './constants';
import { suggestionIn } from './loaderErrors';

/**
 * The loader's "did you mean" as a Quick Fix: `Unknown placeholder ${modle} (did you mean
 * ${model}?)` or `Unknown key "concurrancy"; did you mean "concurrency"?` replaces the
 * marked text. Offered only when the marked text is the kind of thing suggested.
 */
export class DidYouMeanFixes implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];

  provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const out: vscode.CodeAction[] = [];
    for (const d of context.diagnostics) {
      if (d.source !== DiagnosticSource) continue;
      const suggestion = suggestionIn(d.message, doc.getText(d.range));
      if (!suggestion) continue;
      const fix = new vscode.CodeAction(`Change to ${suggestion}`, vscode.CodeActionKind.QuickFix);
      fix.edit = new vscode.WorkspaceEdit();
      fix.edit.replace(doc.uri, d.range, suggestion);
      fix.diagnostics = [d];
      fix.isPreferred = true;
      out.push(fix);
    }
    return out;
  }
}
