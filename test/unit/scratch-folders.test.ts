// platform/scratch-folders.ts: a worker starting removes the scratch folders of processes that no longer
// run (a worker killed mid-ingest left its archive and extracted files for ever), and no others.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { removeOrphanedScratch, removeScratchFolder, scratchFolder } from '../../platform/scratch-folders';

test('the scratch folders of a process that no longer runs are removed; this process\'s and a running one\'s stay', async (t) => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'scratch-test-'));
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  t.after(() => { if (saved === undefined) delete process.env.TMPDIR; else process.env.TMPDIR = saved; });
  const own = await scratchFolder('ingest');
  assert.match(own, new RegExp(`^${tmp}/sweep-work-${process.pid}/ingest-\\w+$`));
  // A process that ran and exited (as a killed worker has), and one that runs: this test's parent.
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
  for (const pid of [gone, String(process.ppid)]) {
    await fs.mkdir(path.join(tmp, `sweep-work-${pid}`, 'ingest-abc', 'extracted'), { recursive: true });
    await fs.writeFile(path.join(tmp, `sweep-work-${pid}`, 'ingest-abc', 'archive.tar.gz'), 'bytes');
  }
  await fs.mkdir(path.join(tmp, 'sweep-work-notes'));
  assert.deepEqual(await removeOrphanedScratch(), [path.join(tmp, `sweep-work-${gone}`)]);
  assert.deepEqual((await fs.readdir(tmp)).sort(), [`sweep-work-${process.pid}`, `sweep-work-${process.ppid}`, 'sweep-work-notes'].sort());
  // A step's folder removed: this process's own folder goes with its last one.
  const other = await scratchFolder('survey');
  await removeScratchFolder(own);
  assert.ok((await fs.readdir(tmp)).includes(`sweep-work-${process.pid}`), 'kept while another step\'s folder is in it');
  await removeScratchFolder(other);
  assert.ok(!(await fs.readdir(tmp)).includes(`sweep-work-${process.pid}`));
  await fs.rm(tmp, { recursive: true, force: true });
});
