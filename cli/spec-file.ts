import fs from 'node:fs';
import { UsageError } from './commands';

/** The spec file's JSON, or a UsageError that says what is wrong with the file. */
export function readSpecFile(specFile: string): unknown {
  if (!fs.existsSync(specFile)) throw new UsageError(`spec file ${specFile} does not exist; see examples/ for one`);
  try {
    return JSON.parse(fs.readFileSync(specFile, 'utf8'));
  } catch (error) {
    throw new UsageError(`spec file ${specFile} is not valid JSON: ${(error as Error).message}`);
  }
}
