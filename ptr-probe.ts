import { S3Client, ListObjectVersionsCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { readEnvFile } from './platform/config';
const dir = process.env.D!;
const env = readEnvFile(`${dir}/stack.env`); const m = readEnvFile(`${dir}/minio-credentials.env`);
const s3 = new S3Client({ endpoint: env.S3_ENDPOINT, region: env.AWS_REGION, forcePathStyle: true, credentials: { accessKeyId: m.MINIO_ROOT_USER, secretAccessKey: m.MINIO_ROOT_PASSWORD } });
(async () => {
  const key = `trials/${process.env.TID}/checkpoint.json`;
  const since = new Date(process.env.SINCE!);
  let all: any[] = []; let KeyMarker: any, VersionIdMarker: any;
  for (;;) { const p = await s3.send(new ListObjectVersionsCommand({ Bucket: env.S3_BUCKET, Prefix: key, KeyMarker, VersionIdMarker })); all.push(...(p.Versions ?? []).filter((v) => v.LastModified! >= since)); if (!p.IsTruncated || (p.Versions ?? []).some((v) => v.LastModified! < since)) break; KeyMarker = p.NextKeyMarker; VersionIdMarker = p.NextVersionIdMarker; }
  let last = '';
  for (const v of all.reverse()) {
    const b = JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: env.S3_BUCKET, Key: key, VersionId: v.VersionId }))).Body!.transformToString());
    const line = `${b.owner} ${b.sweepId}`;
    if (line !== last || b.epoch % 20 === 0) console.log(v.LastModified.toISOString().slice(11, 23), b.epoch, b.owner, b.sweepId);
    last = line;
  }
})();
