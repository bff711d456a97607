// Creates the artifact bucket if it does not exist yet (HeadBucket, then CreateBucket). Idempotent.
//
//   npx tsx infra/create-bucket.ts [bucket]
//
// Configuration comes from the environment as for the workers: S3_ENDPOINT, S3_FORCE_PATH_STYLE,
// S3_BUCKET, AWS_REGION, AWS_CA_BUNDLE and credentials from the AWS SDK default provider chain (infra/stack-up.sh sets
// AWS_SHARED_CREDENTIALS_FILE + AWS_PROFILE). Keys missing from the environment are read from the
// stack env file ($SWEEP_STACK_ENV, else $SWEEP_STACK_DIR/stack.env, default <repo>/.stack/stack.env) when it exists.
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { storageConfig } from '../platform/config';
import { s3 } from '../platform/s3-store';

interface AwsLikeError {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

function statusOf(err: unknown): number | undefined {
  return (err as AwsLikeError | undefined)?.$metadata?.httpStatusCode;
}

function isNotFound(err: unknown): boolean {
  const e = err as AwsLikeError | undefined;
  return e?.name === 'NotFound' || e?.name === 'NoSuchBucket' || statusOf(err) === 404;
}

/** Connection refused/reset, or 5xx while MinIO is still initialising. */
function isTransient(err: unknown): boolean {
  const e = err as AwsLikeError | undefined;
  const status = statusOf(err);
  if (status !== undefined && status >= 500) return true;
  return ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'TimeoutError'].some(
    (c) => e?.code === c || e?.name === c,
  );
}

/** Ensures the bucket exists; returns 'exists' or 'created'. Retries transient errors for ~30 s. */
export async function ensureBucket(client: S3Client, bucket: string): Promise<'exists' | 'created'> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
        return 'exists';
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      try {
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
        return 'created';
      } catch (err) {
        // Lost a race with a concurrent creator: fine.
        if ((err as AwsLikeError).name === 'BucketAlreadyOwnedByYou') return 'exists';
        throw err;
      }
    } catch (err) {
      if (!isTransient(err) || Date.now() > deadline) throw err;
      await sleep(500);
    }
  }
}

async function main(): Promise<void> {
  // Node 20 is what this project targets; the SDK's "node >=22 from 2027" notice is only noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { endpoint } = storageConfig();
  const bucket = process.argv[2] ?? process.env.S3_BUCKET;
  if (!endpoint) throw new Error('S3_ENDPOINT is not set (run infra/stack-up.sh, or source .stack/stack.env)');
  if (!bucket) throw new Error('no bucket: pass one as argument or set S3_BUCKET');
  // The workers' own client: the same endpoint, region, path style and TLS trust (AWS_CA_BUNDLE).
  const client = s3();
  try {
    const result = await ensureBucket(client, bucket);
    console.log(`[create-bucket] bucket ${bucket} ${result === 'created' ? 'created' : 'already exists'} at ${endpoint}`);
  } finally {
    client.destroy();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    const e = err as AwsLikeError & { message?: string };
    console.error(`[create-bucket] ERROR: ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`);
    process.exit(1);
  });
}
