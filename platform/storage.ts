// Artifact storage on S3 (MinIO locally). Thin helpers; every artifact key is built in artifact-keys.ts.
import {
  DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, NoSuchKey, NotFound, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { storageConfig } from './config';

let client: S3Client | undefined;

export function s3(): S3Client {
  if (!client) {
    const config = storageConfig();
    // Credentials come from the AWS SDK's default chain (env, shared credentials file, ...).
    client = new S3Client({ region: config.region, endpoint: config.endpoint, forcePathStyle: config.forcePathStyle });
  }
  return client;
}

export function artifactBucket(): string {
  return storageConfig().bucket;
}

export interface S3Location {
  bucket: string;
  key: string;
}

/** Parses s3://bucket/key; a key-only form ("path/in/bucket") means the artifact bucket. */
export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!match) throw new Error(`not an s3:// URL: ${url}`);
  return { bucket: match[1], key: match[2] };
}

export function s3Url(key: string, bucket = artifactBucket()): string {
  return `s3://${bucket}/${key}`;
}

export async function putObject(key: string, body: Uint8Array | string, contentType = 'application/octet-stream', bucket = artifactBucket()): Promise<void> {
  await s3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
}

export async function putJson(key: string, value: unknown, bucket = artifactBucket()): Promise<void> {
  await putObject(key, JSON.stringify(value, null, 1), 'application/json', bucket);
}

/** The object's bytes; `range` as in HTTP ("bytes=0-11") to read only part of it. */
export async function getObject(key: string, bucket = artifactBucket(), range?: string): Promise<Buffer> {
  const response = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
  return Buffer.from(await response.Body!.transformToByteArray());
}

export async function getJson<T>(key: string, bucket = artifactBucket()): Promise<T> {
  return JSON.parse((await getObject(key, bucket)).toString('utf8')) as T;
}

/** The object, or undefined when it does not exist (other errors propagate so activities retry). */
export async function getJsonIfExists<T>(key: string, bucket = artifactBucket()): Promise<T | undefined> {
  try {
    return await getJson<T>(key, bucket);
  } catch (error) {
    if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

export async function deleteObject(key: string, bucket = artifactBucket()): Promise<void> {
  await s3().send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}

export async function objectExists(key: string, bucket = artifactBucket()): Promise<boolean> {
  try {
    await s3().send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if (error instanceof NotFound || (error as { name?: string }).name === 'NotFound') return false;
    throw error;
  }
}

export async function* listKeys(prefix: string, bucket = artifactBucket()): AsyncGenerator<{ key: string; size: number }> {
  let token: string | undefined;
  do {
    const page = await s3().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const item of page.Contents ?? []) yield { key: item.Key!, size: item.Size ?? 0 };
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}
