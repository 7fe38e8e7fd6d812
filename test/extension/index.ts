// Entry of the extension-host suites: code-server loads this module (through the smoke-test
// driver's payload) inside its real extension host and calls run().
import * as path from 'node:path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  // RESUMABLE_HOST_GREP: only the tests whose title has it (local loops; CI sets nothing).
  const grep = process.env.RESUMABLE_HOST_GREP;
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec', ...(grep ? { grep } : {}) });
  const suite = process.env.RESUMABLE_HOST_SUITE ?? 'trusted';
  mocha.addFile(path.join(__dirname, `${suite}.js`));
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures ? reject(new Error(`${failures} test(s) failed`)) : resolve()));
  });
}
