import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  LayoutError, datasetIdOf, dropDuplicates, hasImageExtension, isHidden, layOutClasses, safeEntryPath, skipReasonOf,
} from '../../lib/dataset-layout';

describe('safeEntryPath', () => {
  test('normalises harmless names', () => {
    assert.deepEqual(safeEntryPath('flowers/daisy/1.jpg'), { path: 'flowers/daisy/1.jpg' });
    assert.deepEqual(safeEntryPath('./flowers//daisy/./1.jpg'), { path: 'flowers/daisy/1.jpg' });
    assert.deepEqual(safeEntryPath('flowers\\daisy\\1.jpg'), { path: 'flowers/daisy/1.jpg' });
    assert.deepEqual(safeEntryPath('flowers/..daisy/1.jpg'), { path: 'flowers/..daisy/1.jpg' });
  });

  test('rejects names that leave the extraction folder', () => {
    for (const name of ['../evil.jpg', 'a/../../evil.jpg', '..\\evil.jpg', 'a/..']) assert.match((safeEntryPath(name) as { problem: string }).problem, /climbs out/);
    for (const name of ['/etc/passwd', '\\evil.jpg', 'C:/evil.jpg', 'c:evil.jpg']) assert.match((safeEntryPath(name) as { problem: string }).problem, /absolute/);
    assert.match((safeEntryPath('a\0b') as { problem: string }).problem, /NUL/);
  });
});

test('isHidden and hasImageExtension', () => {
  for (const p of ['daisy/.DS_Store', '.git/config', '__MACOSX/daisy/._1.jpg', 'daisy/Thumbs.db', 'daisy/desktop.ini']) assert.ok(isHidden(p), p);
  for (const p of ['daisy/1.jpg', 'daisy/a.b.jpg']) assert.ok(!isHidden(p), p);
  for (const p of ['a/1.JPG', 'a/1.jpeg', 'a/1.png', 'a/1.webp', 'a/1.tiff']) assert.ok(hasImageExtension(p), p);
  for (const p of ['a/notes.txt', 'a/jpg', 'a.jpg/README']) assert.ok(!hasImageExtension(p), p);
});

describe('layOutClasses', () => {
  const paths = [
    'flowers/daisy/1.jpg', 'flowers/daisy/sub/2.jpg', 'flowers/daisy/.DS_Store', 'flowers/rose/3.jpg', 'flowers/tulip/4.jpg',
    'flowers/tulip/.DS_Store', 'flowers/README.txt', '__MACOSX/flowers/daisy/._1.jpg',
  ];

  test('class names in decomposed Unicode (as macOS often stores them) are the composed names: same classes, labels and data set id', () => {
    const composed = ['éclair/1.jpg', 'fig/2.jpg'];
    const decomposed = composed.map((p) => p.normalize('NFD'));
    assert.notEqual(decomposed[0], composed[0]);
    const [a, b] = [layOutClasses(composed), layOutClasses(decomposed)];
    // Sorted byte for byte, the decomposed "e\u0301clair" would come before "fig", swapping the labels.
    assert.deepEqual(a.classes, ['fig', 'éclair']);
    assert.deepEqual(b.classes, a.classes);
    // The files are still read by their own names.
    assert.deepEqual(b.files.map((f) => f.path), decomposed.slice().sort());
    const images = (layout: typeof a) => layout.files.map((f) => ({ source: f.path, label: f.label, sha256: `sha-${f.path.normalize('NFC')}`, bytes: 1 }));
    assert.equal(datasetIdOf(b.classes, images(b) as never), datasetIdOf(a.classes, images(a) as never));
    // data.classes typed in either form finds the folder in either form.
    assert.deepEqual(layOutClasses(decomposed, ['éclair', 'fig']).classes, ['éclair', 'fig']);
    assert.deepEqual(layOutClasses(composed, ['éclair'.normalize('NFD'), 'fig']).classes, ['éclair', 'fig']);
    // Listed in both forms it is one class listed twice, not two classes with one folder's images each.
    assert.throws(() => layOutClasses(composed, ['éclair', 'éclair'.normalize('NFD'), 'fig']), (e: Error) => e instanceof LayoutError && /data\.classes lists "éclair" twice .*list it once/.test(e.message));
  });

  test('unwraps single folders, sorts classes, and skips clutter', () => {
    const layout = layOutClasses(paths);
    assert.deepEqual(layout.classes, ['daisy', 'rose', 'tulip']);
    assert.deepEqual(layout.files, [
      { path: 'flowers/daisy/1.jpg', label: 'daisy' }, { path: 'flowers/daisy/sub/2.jpg', label: 'daisy' },
      { path: 'flowers/rose/3.jpg', label: 'rose' }, { path: 'flowers/tulip/4.jpg', label: 'tulip' },
    ]);
    assert.deepEqual(layout.skipped.map((s) => `${s.source} ${s.reason}`), [
      '__MACOSX/flowers/daisy/._1.jpg hidden file', 'flowers/README.txt not in a class folder',
      'flowers/daisy/.DS_Store hidden file', 'flowers/tulip/.DS_Store hidden file',
    ]);
    assert.deepEqual(layOutClasses(paths.map((p) => `data/${p}`)).classes, ['daisy', 'rose', 'tulip']);
  });

  test('uses only the listed classes, in their order, ignoring the others entirely', () => {
    const layout = layOutClasses(paths, ['rose', 'daisy']);
    assert.deepEqual(layout.classes, ['rose', 'daisy']);
    assert.deepEqual(layout.files.map((f) => f.path), ['flowers/daisy/1.jpg', 'flowers/daisy/sub/2.jpg', 'flowers/rose/3.jpg']);
    assert.ok(!layout.skipped.some((s) => s.source.includes('tulip')));
  });

  test('names missing classes and what was found', () => {
    assert.throws(() => layOutClasses(paths, ['daisy', 'lily']), (e: Error) => e instanceof LayoutError && /"lily".*\(in flowers\/\); it has: daisy, rose, tulip/.test(e.message));
    assert.throws(() => layOutClasses(['flowers/daisy/1.jpg', 'flowers/daisy/2.jpg']), /only one class folder \(daisy\)/);
    assert.throws(() => layOutClasses(['1.jpg', 'README']), /no class folders/);
  });
});

describe('dropDuplicates and datasetIdOf', () => {
  const image = (label: string, source: string, sha256: string) => ({ label, source, sha256 });

  test('keeps one copy within a class and drops bytes claimed by two classes', () => {
    const { images, skipped } = dropDuplicates([
      image('rose', 'rose/b.jpg', 'x'), image('rose', 'rose/a.jpg', 'x'), image('daisy', 'daisy/c.jpg', 'y'),
      image('daisy', 'daisy/d.jpg', 'z'), image('rose', 'rose/e.jpg', 'z'),
    ], ['daisy', 'rose']);
    assert.deepEqual(images, [image('daisy', 'daisy/c.jpg', 'y'), image('rose', 'rose/a.jpg', 'x')]);
    assert.deepEqual(skipped.map((s) => [s.source, skipReasonOf(s)]), [
      ['daisy/d.jpg', 'conflicting labels'], ['rose/b.jpg', 'duplicate'], ['rose/e.jpg', 'conflicting labels'],
    ]);
    assert.match(skipped[1].reason, /same bytes as rose\/a\.jpg/);
  });

  test('the id depends on classes, labels and bytes, not on file names or order', () => {
    const images = [image('a', 'a/1.jpg', '11'), image('b', 'b/2.jpg', '22')];
    const id = datasetIdOf(['a', 'b'], images);
    assert.match(id, /^[0-9a-f]{32}$/);
    assert.equal(datasetIdOf(['a', 'b'], [image('b', 'x/y.png', '22'), image('a', 'z.jpg', '11')]), id);
    assert.notEqual(datasetIdOf(['b', 'a'], images), id);
    assert.notEqual(datasetIdOf(['a', 'b'], [image('b', 'a/1.jpg', '11'), image('a', 'b/2.jpg', '22')]), id);
  });
});
