// Reading what sweeps left in a bucket, as the tests do: a JSON object (or nothing where there is
// none), bytes, an object's last write.
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';

export interface BucketReader {
  /** The JSON object at `key`, or undefined when it does not exist. */
  getJson<T>(key: string): Promise<T | undefined>;
  getBytes(key: string): Promise<Buffer>;
  lastModified(key: string): Promise<Date | undefined>;
}

export function bucketReader(s3: S3Client, bucket: string): BucketReader {
  const getBytes = async (key: string) => {
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await response.Body!.transformToByteArray());
  };
  return {
    getBytes,
    async getJson<T>(key: string) {
      try {
        return JSON.parse((await getBytes(key)).toString('utf8')) as T;
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
        throw error;
      }
    },
    async lastModified(key) {
      try {
        return (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).LastModified;
      } catch (error) {
        if ((error as { name?: string }).name === 'NotFound') return undefined;
        throw error;
      }
    },
  };
}
