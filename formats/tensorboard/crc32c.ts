// CRC-32C (Castagnoli) as used by TFRecord framing, via the pure-JS @aws-crypto/crc32c (no native code).
import { crc32c as awsCrc32c } from '@aws-crypto/crc32c';

const MASK_DELTA = 0xa282ead8;

/** Plain CRC-32C of `data` (crc32c("123456789") === 0xe3069283). */
export function crc32c(data: Uint8Array): number {
  return awsCrc32c(data) >>> 0;
}

/** TFRecord's masked CRC: rotate right by 15 bits and add a constant (tensorflow/core/lib/hash/crc32c.h). */
export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}

export function unmaskCrc(masked: number): number {
  const rot = (masked - MASK_DELTA) >>> 0;
  return ((rot >>> 17) | (rot << 15)) >>> 0;
}

export function maskedCrc32c(data: Uint8Array): number {
  return maskCrc(crc32c(data));
}
