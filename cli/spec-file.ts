import fs from 'node:fs';
import { UsageError } from './commands';

/** The spec file's JSON, or a UsageError that says what is wrong with the file. */
export function readSpecFile(specFile: string): unknown {
  if (!specFile.trim()) throw new UsageError('give the path of a spec file (a .json file; see examples/ for some)');
  if (!fs.existsSync(specFile)) throw new UsageError(`spec file ${specFile} does not exist; see examples/ for one`);
  if (fs.statSync(specFile).isDirectory()) throw new UsageError(`spec file ${specFile} is a directory; give a .json file (examples/ has some)`);
  try {
    return JSON.parse(fs.readFileSync(specFile, 'utf8'));
  } catch (error) {
    throw new UsageError(`spec file ${specFile} is not valid JSON: ${(error as Error).message}`);
  }
}
