/**
 * GeoTIFFs on which `gdalinfo -checksum` over /vsicurl/ sends real
 * multi-range GETs (with GDAL_HTTP_MULTIRANGE=SINGLE_GET), made at test time
 * from deterministic pixels with gdal_translate.
 *
 * GDAL 3.6 reads one row of a band's tiles with one multi-range read, after
 * merging the ranges that touch. In a plain tiled GTiff they all touch
 * (INTERLEAVE=PIXEL stores each tile once for all bands; INTERLEAVE=BAND
 * stores a band's tiles in row order), so every GET carries one range,
 * whatever the settings. Several ranges need gaps between a row's tiles:
 * - the COG driver frames each overview tile with a 4-byte leader and
 *   trailer, which GDAL skips when the bands are separate: 8-byte gaps;
 * - a tiled GTiff whose bands' tiles we interleave (the layout GDAL 3.11
 *   writes as INTERLEAVE=TILE; 3.6 reads it but cannot write it): each
 *   tile of a band lies two tiles (8 KiB) after the previous one.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pseudoRandomBytes } from '../../infra/local/bytes.ts';
import { run } from '../support/processes.ts';

export interface GeoTiffLayout {
  readonly name: string;
  /** Where the suites store it. */
  readonly key: string;
  readonly make: (raster: string, dir: string) => Promise<string>;
}

const WIDTH = 1024;
const HEIGHT = 768;
const BANDS = 3;
const TILE = 64;

export const GEOTIFF_LAYOUTS: readonly GeoTiffLayout[] = [
  {
    name: 'COG, separate bands, uncompressed (8-byte gaps)',
    key: 'geo/cog.tif',
    async make(raster, dir) {
      const out = join(dir, 'cog.tif');
      // A band-sequential source keeps the bands separate in the COG.
      await gdal('gdal_translate', ['-q', '-of', 'COG', '-co', 'COMPRESS=NONE', '-co', 'BLOCKSIZE=128',
        '-co', 'RESAMPLING=NEAREST', raster, out]);
      return out;
    },
  },
  {
    name: 'tiled GTiff 64x64, tile-interleaved bands (8 KiB gaps)',
    key: 'geo/tiled.tif',
    async make(raster, dir) {
      const banded = join(dir, 'banded.tif');
      await gdal('gdal_translate', ['-q', '-of', 'GTiff', '-co', 'TILED=YES', '-co', `BLOCKXSIZE=${TILE}`,
        '-co', `BLOCKYSIZE=${TILE}`, '-co', 'INTERLEAVE=BAND', raster, banded]);
      const out = join(dir, 'tiled.tif');
      writeFileSync(out, interleaveTiles(readFileSync(banded)));
      return out;
    },
  },
];

/**
 * Writes the raster both layouts start from: 1024×768, three Byte bands of
 * pseudo-random pixels, band-sequential, described by an ENVI header.
 */
export function writeRaster(dir: string): string {
  const raster = join(dir, 'raster.raw');
  writeFileSync(raster, pseudoRandomBytes(WIDTH * HEIGHT * BANDS, 0x6765_6f74));
  writeFileSync(
    join(dir, 'raster.hdr'),
    ['ENVI', `samples = ${WIDTH}`, `lines = ${HEIGHT}`, `bands = ${BANDS}`, 'header offset = 0',
      'file type = ENVI Standard', 'data type = 1', 'interleave = bsq', 'byte order = 0', ''].join('\n'),
  );
  return raster;
}

/** The checksum lines of `gdalinfo -checksum`: each band's, then its overviews'. */
export function checksumLines(gdalinfoOutput: string): string[] {
  return [...gdalinfoOutput.matchAll(/^\s*((?:Overviews c|C)hecksum[:=].*)$/gm)].map((m) => m[1]!.trim());
}

/** Runs a GDAL tool, failing with its output. The ENVI driver finds its .hdr by listing the directory. */
async function gdal(tool: string, args: readonly string[]): Promise<void> {
  const { code, stdout, stderr } = await run(tool, args, { env: { GDAL_DISABLE_READDIR_ON_OPEN: undefined } });
  if (code !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${code}):\n${stdout}${stderr}`);
}

/**
 * Moves the tiles of a band-interleaved, uncompressed, tiled little-endian
 * TIFF from band order (all of band 1, then band 2, ...) to tile order
 * (tile 1 of every band, tile 2 of every band, ...) and rewrites
 * TileOffsets to match. The pixels stay the same.
 */
function interleaveTiles(tiff: Buffer): Buffer {
  const TILE_OFFSETS = 324;
  const LONG = 4;
  const tileBytes = TILE * TILE;
  const out = Buffer.from(tiff);
  if (tiff.toString('latin1', 0, 2) !== 'II' || tiff.readUInt16LE(2) !== 42) throw new Error('not a little-endian classic TIFF');
  const ifd = tiff.readUInt32LE(4);
  let offsets: { at: number; count: number } | undefined;
  for (let i = 0, n = tiff.readUInt16LE(ifd); i < n; i++) {
    const entry = ifd + 2 + 12 * i;
    if (tiff.readUInt16LE(entry) !== TILE_OFFSETS) continue;
    if (tiff.readUInt16LE(entry + 2) !== LONG) throw new Error('TileOffsets is not LONG');
    offsets = { count: tiff.readUInt32LE(entry + 4), at: tiff.readUInt32LE(entry + 8) };
  }
  if (!offsets || offsets.count !== BANDS * (WIDTH / TILE) * (HEIGHT / TILE)) throw new Error('unexpected TileOffsets');
  const perBand = offsets.count / BANDS;
  const base = tiff.readUInt32LE(offsets.at);
  for (let i = 0; i < offsets.count; i++) {
    const from = tiff.readUInt32LE(offsets.at + 4 * i);
    if (from !== base + i * tileBytes) throw new Error(`tile ${i} is not where band order puts it`);
    const band = Math.floor(i / perBand);
    const to = base + ((i % perBand) * BANDS + band) * tileBytes;
    tiff.copy(out, to, from, from + tileBytes);
    out.writeUInt32LE(to, offsets.at + 4 * i);
  }
  return out;
}
