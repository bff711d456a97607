// TF.js model artifacts (model.json + weight shards) read from file://, plain paths, http(s):// and
// s3://, and written to a folder or S3 - without tfjs-node, whose file:// handler is the only built-in one.
import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { TransientError, URL_FIX, isUnfetchableUrl, rootMessage } from '../lib/errors';
import { getObject, parseS3Url, putObject } from '../platform/storage';

type ReadFile = (relativePath: string) => Promise<Buffer>;

/** Reads the files of a model whose model.json is at `url`, relative to its folder. */
export function modelFileReader(url: string): { read: ReadFile; jsonName: string } {
  const jsonName = url.split('/').pop()!;
  if (url.startsWith('s3://')) {
    const { bucket, key } = parseS3Url(url);
    const folder = key.slice(0, key.length - jsonName.length);
    return { jsonName, read: (name) => getObject(folder + name, bucket) };
  }
  if (/^https?:\/\//.test(url)) {
    return {
      jsonName,
      read: async (name) => {
        const file = new URL(name, url);
        // A server's 5xx, 408 or 429 and a cut connection may pass; another answer will not.
        const transient = (why: string, cause?: unknown) => new TransientError(`GET ${file}: ${why}`, { cause });
        const response = await fetch(file).catch((error: unknown) => {
          throw isUnfetchableUrl(error) ? new Error(`GET ${file} cannot start: ${rootMessage(error)}; ${URL_FIX}`) : transient(rootMessage(error), error);
        });
        if (!response.ok) {
          const why = `HTTP ${response.status}`;
          throw response.status >= 500 || response.status === 408 || response.status === 429 ? transient(why) : new Error(`GET ${file}: ${why}`);
        }
        return Buffer.from(await response.arrayBuffer().catch((error: unknown) => { throw transient(rootMessage(error), error); }));
      },
    };
  }
  const file = url.startsWith('file://') ? new URL(url).pathname : path.resolve(url);
  return { jsonName, read: (name) => fs.readFile(path.join(path.dirname(file), name)) };
}

/** An IOHandler that loads model.json and its weight shards through `read`. */
export function loadHandler(url: string): tf.io.IOHandler {
  const { read, jsonName } = modelFileReader(url);
  return {
    load: async () => {
      const modelJson = JSON.parse((await read(jsonName)).toString('utf8')) as tf.io.ModelJSON;
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Buffer[] = [];
      for (const group of modelJson.weightsManifest) {
        specs.push(...group.weights);
        for (const shard of group.paths) buffers.push(await read(shard));
      }
      const weightData = Buffer.concat(buffers);
      return {
        modelTopology: modelJson.modelTopology,
        format: modelJson.format,
        generatedBy: modelJson.generatedBy,
        convertedBy: modelJson.convertedBy,
        signature: modelJson.signature,
        userDefinedMetadata: modelJson.userDefinedMetadata,
        weightSpecs: specs,
        weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
      };
    },
  };
}

/** An IOHandler that writes model.json + one weights.bin to a local folder or an s3:// prefix. */
export function saveHandler(destination: string): tf.io.IOHandler {
  const write = destination.startsWith('s3://')
    ? (name: string, body: Buffer | string) => {
        const { bucket, key } = parseS3Url(destination);
        return putObject(`${key.replace(/\/$/, '')}/${name}`, body, name.endsWith('.json') ? 'application/json' : 'application/octet-stream', bucket);
      }
    : async (name: string, body: Buffer | string) => {
        await fs.mkdir(destination, { recursive: true });
        await fs.writeFile(path.join(destination, name), body);
      };
  return {
    save: async (artifacts) => {
      const weightData = Buffer.from(tf.io.concatenateArrayBuffers([artifacts.weightData as ArrayBuffer].flat()));
      await write('weights.bin', weightData);
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        userDefinedMetadata: artifacts.userDefinedMetadata,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      await write('model.json', JSON.stringify(modelJson));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weightData.byteLength } };
    },
  };
}
