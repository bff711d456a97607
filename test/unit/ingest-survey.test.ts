// activities/ingest.ts surveyDataSource (what `sweep validate` shows) on a local folder: every file or
// folder passed over is counted with its reason, a symbolic link to a class folder included.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import * as tar from 'tar';
import { surveyDataSource } from '../../activities/ingest';

test('a symbolic link to a folder is skipped and said so, not silently missing', async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'survey-links-'));
  const image = (seed: number) => sharp({ create: { width: 8, height: 8, channels: 3, background: { r: seed, g: 9, b: 90 } } }).png().toBuffer();
  for (const [folder, seed] of [['birds', 1], ['cats', 2], ['real-dogs', 3]] as const) {
    await fs.mkdir(path.join(root, 'data', folder), { recursive: true });
    await fs.writeFile(path.join(root, 'data', folder, `${folder}.png`), await image(seed));
  }
  await fs.symlink(path.join(root, 'data', 'real-dogs'), path.join(root, 'data', 'dogs'));
  await fs.symlink(path.join(root, 'data', 'birds', 'birds.png'), path.join(root, 'data', 'cats', 'linked-bird.png'));
  const survey = await surveyDataSource({ source: path.join(root, 'data'), classes: ['birds', 'cats'] });
  assert.ok(!('remote' in survey));
  // A linked file is followed (here the same bytes in two classes: dropped as conflicting).
  assert.deepEqual(survey.skippedByReason, { 'linked folder': 1, 'conflicting labels': 2 });
  assert.equal(survey.skipped, 3);
});

test('a tar.gz archive is surveyed as its folder is (validate runs outside an activity: the extraction\'s heartbeat failed it)', async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'survey-tar-'));
  const image = (seed: number) => sharp({ create: { width: 8, height: 8, channels: 3, background: { r: seed, g: 9, b: 90 } } }).png().toBuffer();
  for (const [folder, seed] of [['birds', 1], ['cats', 2]] as const) {
    await fs.mkdir(path.join(root, 'data', folder), { recursive: true });
    await fs.writeFile(path.join(root, 'data', folder, `${folder}.png`), await image(seed));
  }
  const archive = path.join(root, 'data.tar.gz');
  await tar.c({ gzip: true, file: archive, cwd: root }, ['data']);
  const fromFolder = await surveyDataSource({ source: path.join(root, 'data'), classes: ['birds', 'cats'] });
  assert.deepEqual(await surveyDataSource({ source: archive, classes: ['birds', 'cats'] }), fromFolder);
  assert.ok(!('remote' in fromFolder) && fromFolder.counts.birds === 1 && fromFolder.counts.cats === 1);
});
