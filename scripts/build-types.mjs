// Writes the library's typings (dist/types/, the `types` of package.json) from src/core/index.ts.
//
// Plain `tsc --emitDeclarationOnly` is not enough: zod is bundled into dist/core.js, so a user
// of the package has no `zod` to resolve, yet the emitted .d.ts would `import { z } from 'zod'`
// for the experiment schema and the worker protocol (TS2307 for anyone without skipLibCheck,
// and `any` types for everyone else). Here the declarations are emitted through the compiler
// API with one transform: a type alias built from zod (`z.output<typeof experimentSchema>`)
// is replaced by the structural type the checker computes for it, and a schema value by the
// part of its API a user can rely on (parse / safeParse with that output type). The result
// must not mention zod at all; the build fails if it does.
//
// Skipped when the typings are newer than every input, so `npm run build` stays quick.
import { mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/** Loaded only when the typings are rebuilt: the compiler takes a second to load. */
let ts;
const CONFIG = 'tsconfig.types.json';
const OUT = 'dist/types';
const STAMP = path.join(OUT, 'index.d.ts');

/** The newest mtime of the file `p`, or of anything under the folder `p`. */
function newest(p) {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = st.mtimeMs;
  for (const e of readdirSync(p)) m = Math.max(m, newest(path.join(p, e)));
  return m;
}

function upToDate() {
  let stamp;
  try {
    stamp = statSync(STAMP).mtimeMs;
  } catch {
    return false;
  }
  const inputs = ['src/core', CONFIG, 'tsconfig.json', 'scripts/build-types.mjs', 'package-lock.json'];
  return inputs.every((p) => newest(p) < stamp);
}

/** Whether a type node names anything through the `z` namespace of zod. */
function usesZod(node) {
  let found = false;
  const visit = (n) => {
    if (found) return;
    if (ts.isIdentifier(n) && n.text === 'z') found = true;
    else if (
      ts.isImportTypeNode(n) &&
      ts.isLiteralTypeNode(n.argument) &&
      ts.isStringLiteral(n.argument.literal) &&
      /^zod(\/|$)/.test(n.argument.literal.text)
    )
      found = true;
    else ts.forEachChild(n, visit);
  };
  visit(node);
  return found;
}

const flags = () =>
  ts.NodeBuilderFlags.NoTruncation |
  ts.NodeBuilderFlags.InTypeAlias |
  ts.NodeBuilderFlags.MultilineObjectLiterals |
  ts.NodeBuilderFlags.UseStructuralFallback |
  ts.NodeBuilderFlags.IgnoreErrors;

/** The declaration transform described at the top, over one emitted .d.ts. */
function dezod(checker) {
  return (context) => {
    const f = context.factory;
    /**
     * The checker prints zod's `{ repeat?: number } & { [k: string]: Scalar[] }` (a matrix) as
     * one literal, which TypeScript refuses (TS2411: the property does not fit the index
     * signature): literals with both are written back as that intersection.
     */
    const splitIndexed = (node) => {
      const n = ts.visitEachChild(node, splitIndexed, context);
      if (!ts.isTypeLiteralNode(n)) return n;
      const index = n.members.filter(ts.isIndexSignatureDeclaration);
      const rest = n.members.filter((m) => !ts.isIndexSignatureDeclaration(m));
      if (index.length === 0 || rest.length === 0) return n;
      return f.createIntersectionTypeNode([f.createTypeLiteralNode(rest), f.createTypeLiteralNode(index)]);
    };
    const expand = (type) => {
      const node = checker.typeToTypeNode(type, undefined, flags());
      if (!node) throw new Error(`could not spell out type ${checker.typeToString(type)}`);
      return splitIndexed(node);
    };
    /**
     * parse / safeParse of a zod schema, typed with what the schema outputs: by the name of an
     * alias of the same file when one is that type (`Experiment`), so the typings read as the
     * source does.
     */
    const schemaApi = (schemaType, aliases) => {
      const parse = checker.getPropertyOfType(schemaType, 'parse');
      const sig = parse && checker.getSignaturesOfType(checker.getTypeOfSymbol(parse), ts.SignatureKind.Call)[0];
      if (!sig) throw new Error(`a zod value without parse(): ${checker.typeToString(schemaType)}`);
      const output = sig.getReturnType();
      const same = [...aliases].find(([, t]) => checker.isTypeAssignableTo(t, output) && checker.isTypeAssignableTo(output, t));
      const out = same ? f.createTypeReferenceNode(same[0]) : expand(output);
      const data = [
        f.createParameterDeclaration(undefined, undefined, 'data', undefined, f.createKeywordTypeNode(ts.SyntaxKind.UnknownKeyword)),
      ];
      const prop = (name, type) => f.createPropertySignature(undefined, name, undefined, type);
      const success = (ok, rest) =>
        f.createTypeLiteralNode([
          prop('success', ok ? f.createLiteralTypeNode(f.createTrue()) : f.createLiteralTypeNode(f.createFalse())),
          rest,
        ]);
      return f.createTypeLiteralNode([
        f.createMethodSignature(undefined, 'parse', undefined, undefined, data, out),
        f.createMethodSignature(
          undefined,
          'safeParse',
          undefined,
          undefined,
          data,
          f.createUnionTypeNode([success(true, prop('data', out)), success(false, prop('error', f.createTypeReferenceNode('Error')))]),
        ),
      ]);
    };
    return (file) => {
      if (!ts.isSourceFile(file)) return file;
      const aliases = new Map();
      for (const s of file.statements) {
        const original = ts.getOriginalNode(s);
        if (ts.isTypeAliasDeclaration(original) && !original.typeParameters)
          aliases.set(original.name.text, checker.getTypeAtLocation(original.name));
      }
      const statements = [];
      for (const s of file.statements) {
        const original = ts.getOriginalNode(s);
        if (ts.isImportDeclaration(s) && ts.isStringLiteral(s.moduleSpecifier) && /^zod(\/|$)/.test(s.moduleSpecifier.text)) continue;
        if (ts.isTypeAliasDeclaration(s) && usesZod(s.type)) {
          if (s.typeParameters) throw new Error(`generic zod alias ${s.name.text}: spell it out in the source`);
          const type = checker.getTypeAtLocation(ts.isTypeAliasDeclaration(original) ? original.name : s.name);
          statements.push(f.updateTypeAliasDeclaration(s, s.modifiers, s.name, undefined, expand(type)));
          continue;
        }
        if (ts.isVariableStatement(s) && s.declarationList.declarations.some((d) => d.type && usesZod(d.type))) {
          const exported = s.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
          // A private schema (only behind `typeof` in an alias, spelt out above) goes away.
          if (!exported) continue;
          const decls = s.declarationList.declarations.map((d) => {
            if (!d.type || !usesZod(d.type)) return d;
            const od = ts.getOriginalNode(d);
            const type = checker.getTypeAtLocation(ts.isVariableDeclaration(od) ? od.name : d.name);
            return f.updateVariableDeclaration(d, d.name, undefined, schemaApi(type, aliases), undefined);
          });
          statements.push(f.updateVariableStatement(s, s.modifiers, f.updateVariableDeclarationList(s.declarationList, decls)));
          continue;
        }
        statements.push(s);
      }
      return f.updateSourceFile(file, statements);
    };
  };
}

export async function buildTypes() {
  if (upToDate()) return;
  // The typings are stamped with the time this build started: a source edited while it runs
  // is newer than the stamp, so the next build writes them again.
  const started = new Date();
  ts = (await import('typescript')).default;
  const host = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => fail([d]) };
  const parsed = ts.getParsedCommandLineOfConfigFile(CONFIG, {}, host);
  if (!parsed) throw new Error(`cannot read ${CONFIG}`);
  if (parsed.errors.length) fail(parsed.errors);
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
  const checker = program.getTypeChecker();
  const files = new Map();
  const result = program.emit(undefined, (name, text) => files.set(name, text), undefined, true, {
    afterDeclarations: [dezod(checker)],
  });
  if (result.diagnostics.length) fail(result.diagnostics);
  const shipped = reachable(files, path.resolve(STAMP));
  for (const name of shipped) {
    if (/['"]zod(\/[^'"]*)?['"]|\bz\.[A-Za-z$]/.test(files.get(name)))
      throw new Error(`${name} still refers to zod: the typings would need it installed`);
  }
  // Replace the folder as a whole so a source file removed since the last build leaves no stale .d.ts.
  rmSync(OUT, { recursive: true, force: true });
  for (const name of shipped) {
    const text = files.get(name);
    mkdirSync(path.dirname(name), { recursive: true });
    writeFileSync(name, text);
  }
  utimesSync(STAMP, started, started);
}

/**
 * The declarations the public ones import, transitively: tsc writes one for every module the
 * program holds, and the engine's internals (some typed with zod) are no part of the API.
 */
function reachable(files, entry) {
  const seen = new Set();
  const todo = [entry];
  while (todo.length > 0) {
    const name = todo.pop();
    if (seen.has(name)) continue;
    const text = files.get(name);
    if (text === undefined) throw new Error(`typings: ${name} is imported but was not emitted`);
    seen.add(name);
    for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const base = path.resolve(path.dirname(name), m[1]);
      todo.push(files.has(`${base}.d.ts`) ? `${base}.d.ts` : path.join(base, 'index.d.ts'));
    }
  }
  return seen;
}

function fail(diagnostics) {
  const text = ts.formatDiagnostics(diagnostics, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => process.cwd(),
    getNewLine: () => '\n',
  });
  throw new Error(`typings: ${text}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await buildTypes();
