import { inflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export type PngHeader = {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlace: number;
};

/** The PNG's chunks after the signature, which must be there. */
function chunks(png: Buffer): { type: string; data: Buffer }[] {
  if (png.length < 8 || !png.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG: bad signature');
  const out: { type: string; data: Buffer }[] = [];
  for (let at = 8; at + 8 <= png.length; ) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    out.push({ type, data: png.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
    if (type === 'IEND') break;
  }
  if (out[0]?.type !== 'IHDR') throw new Error('not a PNG: the first chunk is not IHDR');
  if (out.at(-1)?.type !== 'IEND') throw new Error('truncated PNG: no IEND chunk');
  return out;
}

/** The IHDR fields of a PNG (its size), after checking the signature and the chunk layout. */
export function pngHeader(png: Buffer): PngHeader {
  const ihdr = chunks(png)[0]?.data as Buffer;
  return {
    width: ihdr.readUInt32BE(0),
    height: ihdr.readUInt32BE(4),
    bitDepth: ihdr.readUInt8(8),
    colorType: ihdr.readUInt8(9),
    interlace: ihdr.readUInt8(12),
  };
}

/**
 * The pixels of an 8-bit RGB or RGBA, non-interlaced PNG (what resvg writes) as RGBA rows:
 * IDAT inflated and each row's filter undone, per the PNG specification.
 */
export function decodePng(png: Buffer): { width: number; height: number; rgba: Buffer } {
  const header = pngHeader(png);
  const { width, height, bitDepth, colorType, interlace } = header;
  if (bitDepth !== 8 || (colorType !== 6 && colorType !== 2) || interlace !== 0) {
    throw new Error(`decodePng reads 8-bit RGB(A) non-interlaced PNGs, not ${JSON.stringify(header)}`);
  }
  const channels = colorType === 6 ? 4 : 3;
  const raw = inflateSync(
    Buffer.concat(
      chunks(png)
        .filter((c) => c.type === 'IDAT')
        .map((c) => c.data),
    ),
  );
  const stride = width * channels;
  if (raw.length !== height * (stride + 1))
    throw new Error(`IDAT holds ${raw.length} bytes, expected ${height * (stride + 1)}`);
  const rows = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const value = raw[y * (stride + 1) + 1 + x] ?? 0;
      const left = x >= channels ? (rows[y * stride + x - channels] ?? 0) : 0;
      const up = y > 0 ? (rows[(y - 1) * stride + x] ?? 0) : 0;
      const corner = y > 0 && x >= channels ? (rows[(y - 1) * stride + x - channels] ?? 0) : 0;
      let predicted = 0;
      if (filter === 1) predicted = left;
      else if (filter === 2) predicted = up;
      else if (filter === 3) predicted = (left + up) >> 1;
      else if (filter === 4) {
        const p = left + up - corner;
        const [pa, pb, pc] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - corner)];
        predicted = pa <= pb && pa <= pc ? left : pb <= pc ? up : corner;
      } else if (filter !== 0) throw new Error(`row ${y} has unknown filter ${filter}`);
      rows[y * stride + x] = (value + predicted) & 0xff;
    }
  }
  if (channels === 4) return { width, height, rgba: rows };
  const rgba = Buffer.alloc(width * height * 4, 0xff);
  for (let i = 0; i < width * height; i++) rows.copy(rgba, i * 4, i * 3, i * 3 + 3);
  return { width, height, rgba };
}

/** Pixels of a rectangle that are not (near) white, a sign that something was drawn there. */
export function inkIn(
  image: { width: number; rgba: Buffer },
  box: { x: number; y: number; width: number; height: number },
): number {
  let ink = 0;
  for (let y = box.y; y < box.y + box.height; y++) {
    for (let x = box.x; x < box.x + box.width; x++) {
      const i = (y * image.width + x) * 4;
      const [r, g, b, a] = [
        image.rgba[i] ?? 0,
        image.rgba[i + 1] ?? 0,
        image.rgba[i + 2] ?? 0,
        image.rgba[i + 3] ?? 0,
      ];
      if (a > 0 && r + g + b < 600) ink++;
    }
  }
  return ink;
}
