// Scratch folders on this machine's disk (an ingest's downloaded archive and extracted files), under a
// folder of the process that made them. A process killed before it cleaned up (SIGKILL, the OOM
// killer, a node that lost power) would leave them for ever, gigabytes for a large archive, until the
// disk filled: a worker starting removes the folders of processes that no longer run.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const OWNER_PREFIX = 'sweep-work-';
const OWNER_FOLDER = new RegExp(`^${OWNER_PREFIX}(\\d+)$`);

/** A new folder for this process's scratch files, named `<name>-XXXXXX`; the caller removes it. */
export async function scratchFolder(name: string): Promise<string> {
  const own = path.join(os.tmpdir(), `${OWNER_PREFIX}${process.pid}`);
  for (;;) {
    await fs.mkdir(own, { recursive: true });
    try {
      return await fs.mkdtemp(path.join(own, `${name}-`));
    } catch (error) {
      // Another step removed this process's folder, its last, in between: made again.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/** Removes a folder scratchFolder made, and this process's own folder once it holds no other. */
export async function removeScratchFolder(folder: string): Promise<void> {
  await fs.rm(folder, { recursive: true, force: true });
  // Fails while another step's scratch folder is in it (ENOTEMPTY), or after another step removed it.
  await fs.rmdir(path.dirname(folder)).catch(() => undefined);
}

/** Removes the scratch folders of processes that no longer run on this machine; returns them. */
export async function removeOrphanedScratch(): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await fs.readdir(os.tmpdir())) {
    const pid = Number(OWNER_FOLDER.exec(name)?.[1]);
    if (!pid || pid === process.pid || runs(pid)) continue;
    const folder = path.join(os.tmpdir(), name);
    await fs.rm(folder, { recursive: true, force: true });
    removed.push(folder);
  }
  return removed;
}

function runs(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
