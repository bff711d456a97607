// Image packs as bytes: where each image lies, the pack's name, and finding images across indexes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ImagePackBuilder, locateImages } from '../../formats/image-pack';

const bytes = (...values: number[]) => new Uint8Array(values);

describe('image packs', () => {
  test('a pack is its images end to end, named by the sha256 of its bytes; the index places each image', () => {
    const builder = new ImagePackBuilder();
    builder.add('a', bytes(1, 2, 3));
    builder.add('b', bytes());
    builder.add('c', bytes(4, 5));
    assert.deepEqual(builder.size, { images: 3, bytes: 5 });
    const { bytes: pack, index } = builder.finish();
    assert.deepEqual([...pack], [1, 2, 3, 4, 5]);
    assert.equal(index.pack, createHash('sha256').update(pack).digest('hex'));
    assert.deepEqual(index.images, [{ sha256: 'a', offset: 0, length: 3 }, { sha256: 'b', offset: 3, length: 0 }, { sha256: 'c', offset: 3, length: 2 }]);
    for (const image of index.images) assert.deepEqual([...pack.subarray(image.offset, image.offset + image.length)], { a: [1, 2, 3], b: [], c: [4, 5] }[image.sha256]);
  });

  test('the same images in the same order make the same pack; another order another', () => {
    const pack = (order: string[]) => {
      const builder = new ImagePackBuilder();
      for (const name of order) builder.add(name, Buffer.from(name));
      return builder.finish().index.pack;
    };
    assert.equal(pack(['x', 'yy']), pack(['x', 'yy']));
    assert.notEqual(pack(['x', 'yy']), pack(['yy', 'x']));
  });

  test('images are found across indexes; one stored in two packs is read from the first', () => {
    const located = locateImages([
      { pack: 'p1', images: [{ sha256: 'a', offset: 0, length: 3 }, { sha256: 'b', offset: 3, length: 1 }] },
      { pack: 'p2', images: [{ sha256: 'b', offset: 0, length: 1 }, { sha256: 'c', offset: 1, length: 2 }] },
    ]);
    assert.deepEqual(Object.fromEntries(located), {
      a: { pack: 'p1', offset: 0, length: 3 }, b: { pack: 'p1', offset: 3, length: 1 }, c: { pack: 'p2', offset: 1, length: 2 },
    });
  });
});
