#!/usr/bin/env node
// Check a Teams app package offline, before an admin uploads it.
//
//   node manifest/validate.mjs appPackage.zip      (a built package)
//   node manifest/validate.mjs some/folder         (a folder holding manifest.json)
//   node manifest/validate.mjs some/manifest.json  (other files next to it)
//
// It checks manifest.json and every localization file against Microsoft's JSON
// schemas bundled in the npm package @microsoft/app-manifest (no network), for
// the manifestVersion the manifest declares. It also checks what the schema
// cannot: the files the manifest names exist, icon sizes (color 192x192,
// outline 32x32), the outline icon is white on a transparent background, the
// localization keys point at real manifest strings, and the default-language
// file says the same as the manifest.
//
// Exit code 0: valid. 1: problems found (listed on stderr). 2: could not run.
//
// Why not AppManifestUtils.validateAgainstSchema itself: @microsoft/app-manifest
// 1.1.2 requires fs-extra without declaring it, so it cannot be imported here,
// and its localization schemas hold a pattern ("\b]") that Ajv rejects in
// unicode mode. We use its bundled schemas with the same Ajv set-up it uses
// (draft-04, allErrors, strictTypes off, formats uri/email/regex, the same
// \a and \v clean-up), plus unicodeRegExp off for the localization schema.

import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { createRequire } from "node:module";

const SIZES = { color: [192, 192], outline: [32, 32], color32x32: [32, 32] };

class UsageError extends Error {}

// ---------------------------------------------------------------- the package

/** Read a zip file into a Map name -> Buffer (stored and deflated entries). */
function readZip(buf) {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new UsageError("not a zip file (no end-of-central-directory record)");
  const files = new Map();
  let p = buf.readUInt32LE(eocd + 16);
  for (let n = buf.readUInt16LE(eocd + 10); n > 0; n--) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new UsageError("damaged zip central directory");
    const method = buf.readUInt16LE(p + 10);
    const size = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString("utf8", p + 46, p + 46 + nameLen);
    p += 46 + nameLen + buf.readUInt16LE(p + 30) + buf.readUInt16LE(p + 32);
    if (name.endsWith("/")) continue;
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(start, start + size);
    if (method === 0) files.set(name, data);
    else if (method === 8) files.set(name, zlib.inflateRawSync(data));
    else throw new UsageError(`${name}: unsupported zip compression method ${method}`);
  }
  return files;
}

/** Returns { label, manifestName, files: Map name -> Buffer }. */
function openPackage(target) {
  if (!fs.existsSync(target)) throw new UsageError(`${target} does not exist`);
  if (fs.statSync(target).isDirectory()) {
    const files = new Map();
    for (const name of fs.readdirSync(target)) {
      const full = path.join(target, name);
      if (fs.statSync(full).isFile()) files.set(name, fs.readFileSync(full));
    }
    return { label: target, manifestName: "manifest.json", files };
  }
  if (target.toLowerCase().endsWith(".zip")) {
    return { label: target, manifestName: "manifest.json", files: readZip(fs.readFileSync(target)) };
  }
  const pkg = openPackage(path.dirname(target));
  return { ...pkg, label: target, manifestName: path.basename(target) };
}

// ---------------------------------------------------------------- schemas

function loadValidatorFactory() {
  const require = createRequire(import.meta.url);
  let main;
  try {
    main = require.resolve("@microsoft/app-manifest");
  } catch {
    throw new UsageError("@microsoft/app-manifest is not installed: run `npm install` (or `npm ci`) in the repository root");
  }
  const schemaRoot = path.join(path.dirname(main), "json-schemas", "teams");
  const fromPackage = createRequire(main);
  const interop = (m) => m.default ?? m;
  const Ajv04 = interop(fromPackage("ajv-draft-04"));
  const addFormats = interop(fromPackage("ajv-formats"));

  return function validatorFor(version, fileName, { unicodeRegExp }) {
    const file = path.join(schemaRoot, `v${version}`, fileName);
    if (!fs.existsSync(file)) return null;
    const raw = fs.readFileSync(file, "utf8").replace(/\\a/g, "\\u0007").replace(/\\v/g, "\\u000b");
    const ajv = new Ajv04({ allErrors: true, strictTypes: false, unicodeRegExp });
    addFormats(ajv, ["uri", "email", "regex"]);
    const validate = ajv.compile(JSON.parse(raw));
    return (data) => {
      if (validate(JSON.parse(JSON.stringify(data)))) return [];
      return validate.errors.map((e) => {
        const where = e.instancePath || "(top level)";
        const wanted = ["additionalProperties", "enum", "const"].includes(e.keyword);
        const details = wanted ? ` ${JSON.stringify(e.params)}` : "";
        return `${where} ${e.message}${details}`;
      });
    };
  };
}

function schemaVersionOf(schemaUrl, kind) {
  const m = /\/v([0-9.]+|DevPreview)\/MicrosoftTeams(\.Localization)?\.schema\.json$/i.exec(schemaUrl ?? "");
  if (!m) return null;
  if ((kind === "localization") !== Boolean(m[2])) return null;
  return m[1];
}

// ---------------------------------------------------------------- PNG

function readPng(buf) {
  if (buf.length < 8 || buf.subarray(0, 8).toString("hex") !== "89504e470d0a1a0a") return null;
  const png = { idat: [] };
  for (let p = 8; p + 8 <= buf.length; ) {
    const len = buf.readUInt32BE(p);
    const type = buf.toString("latin1", p + 4, p + 8);
    const data = buf.subarray(p + 8, p + 8 + len);
    if (type === "IHDR") {
      Object.assign(png, {
        width: data.readUInt32BE(0),
        height: data.readUInt32BE(4),
        depth: data[8],
        colorType: data[9],
        interlace: data[12],
      });
    } else if (type === "PLTE") png.plte = data;
    else if (type === "tRNS") png.trns = data;
    else if (type === "IDAT") png.idat.push(data);
    else if (type === "IEND") break;
    p += 12 + len;
  }
  return png.width ? png : null;
}

/** RGBA bytes of an 8-bit, non-interlaced PNG; null for other formats. */
function pngPixels(png) {
  const channels = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[png.colorType];
  if (png.depth !== 8 || png.interlace !== 0 || !channels) return null;
  const raw = zlib.inflateSync(Buffer.concat(png.idat));
  const stride = png.width * channels;
  const out = Buffer.alloc(png.width * png.height * 4);
  let prev = Buffer.alloc(stride);
  for (let y = 0; y < png.height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? line[i - channels] : 0;
      const b = prev[i];
      const c = i >= channels ? prev[i - channels] : 0;
      let add = 0;
      if (filter === 1) add = a;
      else if (filter === 2) add = b;
      else if (filter === 3) add = (a + b) >> 1;
      else if (filter === 4) {
        const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
        add = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else if (filter !== 0) throw new Error(`unknown PNG filter ${filter}`);
      line[i] = (line[i] + add) & 0xff;
    }
    for (let x = 0; x < png.width; x++) {
      const s = x * channels;
      let px;
      if (png.colorType === 0) px = [line[s], line[s], line[s], 255];
      else if (png.colorType === 2) px = [line[s], line[s + 1], line[s + 2], 255];
      else if (png.colorType === 4) px = [line[s], line[s], line[s], line[s + 1]];
      else if (png.colorType === 6) px = [line[s], line[s + 1], line[s + 2], line[s + 3]];
      else {
        const k = line[s];
        const alpha = png.trns && k < png.trns.length ? png.trns[k] : 255;
        px = [png.plte[k * 3], png.plte[k * 3 + 1], png.plte[k * 3 + 2], alpha];
      }
      out.set(px, (y * png.width + x) * 4);
    }
    prev = line;
  }
  return out;
}

// ---------------------------------------------------------------- checks

/** Look up a localization key such as bots[0].commandLists[1].commands[2].title. */
function lookup(obj, key) {
  let node = obj;
  for (const [, prop, index] of key.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (node === null || typeof node !== "object") return undefined;
    node = node[prop ?? Number(index)];
  }
  return node;
}

function parseJson(pkg, name, problems) {
  const buf = pkg.files.get(name);
  if (!buf) {
    problems.push(`${name}: missing from the package`);
    return null;
  }
  try {
    return JSON.parse(buf.toString("utf8").replace(/^\uFEFF/, ""));
  } catch (err) {
    problems.push(`${name}: not valid JSON (${err.message})`);
    return null;
  }
}

function checkIcons(pkg, manifest, problems, notes) {
  for (const [role, [w, h]] of Object.entries(SIZES)) {
    const name = manifest.icons?.[role];
    if (typeof name !== "string") continue;
    const buf = pkg.files.get(name);
    if (!buf) {
      problems.push(`${name}: icons.${role} names this file, but it is missing from the package`);
      continue;
    }
    const png = readPng(buf);
    if (!png) {
      problems.push(`${name}: icons.${role} must be a PNG image`);
      continue;
    }
    if (png.width !== w || png.height !== h) {
      problems.push(`${name}: icons.${role} must be ${w}x${h} pixels, it is ${png.width}x${png.height}`);
      continue;
    }
    notes.push(`${name} ${w}x${h}`);
    if (role !== "outline") continue;
    const px = pngPixels(png);
    if (!px) {
      problems.push(`${name}: cannot read this PNG format (use 8-bit RGBA) to check its transparency`);
      continue;
    }
    const corners = [0, w - 1, (h - 1) * w, h * w - 1];
    if (corners.some((i) => px[i * 4 + 3] !== 0)) {
      problems.push(`${name}: the outline icon needs a transparent background (its corners are not transparent)`);
    }
    let coloured = 0;
    for (let i = 0; i < w * h; i++) {
      if (px[i * 4 + 3] > 0 && (px[i * 4] !== 255 || px[i * 4 + 1] !== 255 || px[i * 4 + 2] !== 255)) coloured++;
    }
    if (coloured) problems.push(`${name}: the outline icon may only use white; ${coloured} visible pixel(s) are not white`);
  }
}

function checkLocalization(pkg, manifest, version, validatorFor, problems, notes) {
  const info = manifest.localizationInfo;
  if (!info) return;
  const files = [];
  if (info.defaultLanguageFile) files.push([info.defaultLanguageFile, info.defaultLanguageTag, true]);
  for (const extra of info.additionalLanguages ?? []) files.push([extra.file, extra.languageTag, false]);
  if (!files.length) return;
  const validate = validatorFor(version, "MicrosoftTeams.Localization.schema.json", { unicodeRegExp: false });
  if (!validate) {
    problems.push(`localizationInfo: no bundled localization schema for manifest version ${version}`);
    return;
  }
  for (const [name, tag, isDefault] of files) {
    if (typeof name !== "string") continue;
    const strings = parseJson(pkg, name, problems);
    if (!strings) continue;
    const before = problems.length;
    const fileVersion = schemaVersionOf(strings.$schema, "localization");
    if (fileVersion !== version) {
      problems.push(
        `${name}: $schema must be the v${version} MicrosoftTeams.Localization.schema.json (same version as the manifest), got ${JSON.stringify(strings.$schema)}`,
      );
    }
    for (const msg of validate(strings)) problems.push(`${name}: ${msg}`);
    for (const [key, value] of Object.entries(strings)) {
      if (key === "$schema" || key === "localizationKeys") continue;
      const original = lookup(manifest, key);
      if (typeof original !== "string") {
        problems.push(`${name}: "${key}" does not match a text in the manifest`);
      } else if (isDefault && original !== value) {
        problems.push(`${name}: "${key}" differs from the manifest (${JSON.stringify(value)} vs ${JSON.stringify(original)}); the default-language file must say the same`);
      }
    }
    if (problems.length === before) notes.push(`${name} (${tag})`);
  }
}

function validatePackage(target) {
  const pkg = openPackage(target);
  const problems = [];
  const notes = [];
  const manifest = parseJson(pkg, pkg.manifestName, problems);
  if (!manifest) return { pkg, problems, notes };

  const validatorFor = loadValidatorFactory();
  const version = manifest.manifestVersion;
  const validate = typeof version === "string" && validatorFor(version, "MicrosoftTeams.schema.json", { unicodeRegExp: true });
  if (!validate) {
    problems.push(`${pkg.manifestName}: manifestVersion ${JSON.stringify(version)} has no schema bundled in @microsoft/app-manifest`);
    return { pkg, problems, notes };
  }
  if (manifest.$schema !== undefined && schemaVersionOf(manifest.$schema, "manifest") !== version) {
    problems.push(`${pkg.manifestName}: $schema ${JSON.stringify(manifest.$schema)} does not match manifestVersion ${version}`);
  }
  const schemaProblems = validate(manifest);
  for (const msg of schemaProblems) problems.push(`${pkg.manifestName}: ${msg}`);
  if (!schemaProblems.length) notes.unshift(`${pkg.manifestName} (schema v${version})`);
  checkIcons(pkg, manifest, problems, notes);
  checkLocalization(pkg, manifest, version, validatorFor, problems, notes);
  return { pkg, problems, notes };
}

function main(argv) {
  if (argv.length !== 1 || argv[0] === "-h" || argv[0] === "--help") {
    console.error("usage: node manifest/validate.mjs <appPackage.zip | folder | manifest.json>");
    return 2;
  }
  try {
    const { pkg, problems, notes } = validatePackage(argv[0]);
    if (problems.length) {
      console.error(`INVALID ${pkg.label}: ${problems.length} problem(s)`);
      for (const p of problems) console.error(`  - ${p}`);
      return 1;
    }
    console.log(`OK ${pkg.label}: ${notes.join(", ")}`);
    return 0;
  } catch (err) {
    console.error(`Cannot validate ${argv[0]}: ${err.message}`);
    return 2;
  }
}

process.exitCode = main(process.argv.slice(2));
