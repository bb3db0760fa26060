#!/usr/bin/env node
// run_ort.js - run an ONNX model with ONNX Runtime (onnxruntime-node) on
// float32 .npy inputs and write every output as a float32 .npy (v1).
//
//   node run_ort.js MODEL.onnx OUTDIR NAME=IN.npy ... [--threads N] [--repeat N]
//
// NAME is the model input's name; a bare IN.npy is accepted when the model has
// exactly one input. Outputs go to OUTDIR/<output name, sanitised>.npy.
// --threads N: intraOpNumThreads (default 1); interOpNumThreads is always 1.
// --repeat N: after the first run (whose outputs are written), time N more
// runs and print "median_ms=... min_ms=... runs=N threads=N".
// --timing-loop: then print "ready" and, for each line "N" on stdin, run N
// times and print the run times in ms on one line (perf/bench_models.py).
'use strict';

const fs = require('fs');
const path = require('path');

function die(msg) {
  process.stderr.write(`run_ort: ${msg}\n`);
  process.exit(1);
}

function usage() {
  die('usage: node run_ort.js MODEL.onnx OUTDIR NAME=IN.npy ... ' +
      '[--threads N] [--repeat N]');
}

// ---- .npy ----

function readNpy(file) {
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    die(`${file}: ${e.message}`);
  }
  const magic = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
  if (buf.length < 10 || !buf.subarray(0, 6).equals(magic))
    die(`${file}: not a .npy file`);
  const major = buf[6];
  let hlen, hstart;
  if (major === 1) {
    hlen = buf.readUInt16LE(8);
    hstart = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) die(`${file}: truncated header`);
    hlen = buf.readUInt32LE(8);
    hstart = 12;
  } else {
    die(`${file}: unsupported .npy version ${major}`);
  }
  if (hstart + hlen > buf.length) die(`${file}: truncated header`);
  const header = buf.subarray(hstart, hstart + hlen)
                     .toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shapeM = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeM) die(`${file}: bad header ${header}`);
  if (descr[1] !== '<f4' && descr[1] !== '=f4')
    die(`${file}: dtype ${descr[1]} is not float32 ('<f4')`);
  if (fortran[1] !== 'False') die(`${file}: fortran_order arrays unsupported`);
  const dims = shapeM[1].split(',').map(s => s.trim()).filter(s => s.length)
                   .map(s => {
                     const v = Number(s.replace(/L$/, ''));
                     if (!Number.isInteger(v) || v < 0)
                       die(`${file}: bad shape ${shapeM[1]}`);
                     return v;
                   });
  const numel = dims.reduce((a, b) => a * b, 1);
  const off = hstart + hlen;
  if (buf.length - off < numel * 4)
    die(`${file}: ${buf.length - off} data bytes, need ${numel * 4}`);
  // Copy into an aligned buffer (the data offset need not be 4-aligned).
  const data = new Float32Array(numel);
  Buffer.from(data.buffer).set(buf.subarray(off, off + numel * 4));
  return {dims, data};
}

function writeNpy(file, dims, f32) {
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  // magic(6) + version(2) + len(2) + header + '\n' padded to 64 bytes.
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(pre, 0);
  pre.writeUInt16LE(header.length, 8);
  const body = Buffer.from(f32.buffer, f32.byteOffset, f32.byteLength);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), body]));
}

function sanitize(name) {
  const s = name.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, m => '_'.repeat(m.length));
  return s.length ? s : '_';
}

// ---- main ----

async function main() {
  const args = process.argv.slice(2);
  let threads = 1, repeat = 0, timingLoop = false;
  const pos = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--timing-loop') {
      timingLoop = true;
    } else if (a === '--threads' || a === '--repeat') {
      const v = Number(args[++i]);
      if (!Number.isInteger(v) || v < (a === '--threads' ? 1 : 0))
        die(`${a} needs a ${a === '--threads' ? 'positive' : 'non-negative'} integer`);
      if (a === '--threads') threads = v; else repeat = v;
    } else if (a === '-h' || a === '--help') {
      usage();
    } else {
      pos.push(a);
    }
  }
  if (pos.length < 3) usage();
  const [modelPath, outDir, ...inputArgs] = pos;

  let ort;
  try {
    ort = require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));
  } catch (e) {
    die(`cannot load onnxruntime-node (run setup.sh first): ${e.message}`);
  }

  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  });

  const feeds = {};
  for (const a of inputArgs) {
    let name, file;
    const eq = a.indexOf('=');
    if (eq > 0) {
      name = a.slice(0, eq);
      file = a.slice(eq + 1);
    } else if (session.inputNames.length === 1) {
      name = session.inputNames[0];
      file = a;
    } else {
      die(`'${a}': give inputs as NAME=FILE.npy (model inputs: ${session.inputNames.join(', ')})`);
    }
    if (!session.inputNames.includes(name))
      die(`model has no input '${name}' (inputs: ${session.inputNames.join(', ')})`);
    const {dims, data} = readNpy(file);
    feeds[name] = new ort.Tensor('float32', data, dims);
  }
  for (const n of session.inputNames)
    if (!(n in feeds)) die(`no value given for model input '${n}'`);

  const results = await session.run(feeds);
  fs.mkdirSync(outDir, {recursive: true});
  for (const name of session.outputNames) {
    const t = results[name];
    let f32;
    if (t.data instanceof Float32Array) {
      f32 = t.data;
    } else if (typeof t.data[Symbol.iterator] === 'function' && typeof t.data !== 'string') {
      f32 = Float32Array.from(t.data, v => Number(v));
    } else {
      die(`output '${name}' has type ${t.type}, cannot write as float32`);
    }
    const file = path.join(outDir, `${sanitize(name)}.npy`);
    writeNpy(file, t.dims.map(Number), f32);
    process.stdout.write(`${name} [${t.dims.join('x')}] -> ${file}\n`);
  }

  if (repeat > 0) {
    const ms = [];
    for (let i = 0; i < repeat; i++) {
      const t0 = process.hrtime.bigint();
      await session.run(feeds);
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    ms.sort((a, b) => a - b);
    const mid = ms.length >> 1;
    const median = ms.length % 2 ? ms[mid] : (ms[mid - 1] + ms[mid]) / 2;
    process.stdout.write(`median_ms=${median.toFixed(3)} min_ms=${ms[0].toFixed(3)} ` +
                         `runs=${repeat} threads=${threads}\n`);
  }
  if (timingLoop) {
    process.stdout.write('ready\n');
    const rl = require('readline').createInterface({input: process.stdin});
    for await (const line of rl) {
      const t = line.trim();
      if (!t) continue;
      const n = Number(t);
      if (!Number.isInteger(n) || n < 1) die(`--timing-loop: bad count '${t}'`);
      const ms = [];
      for (let i = 0; i < n; i++) {
        const t0 = process.hrtime.bigint();
        await session.run(feeds);
        ms.push((Number(process.hrtime.bigint() - t0) / 1e6).toFixed(3));
      }
      process.stdout.write(ms.join(' ') + '\n');
    }
  }
  await session.release();
}

main().catch(e => die(e && e.stack ? e.stack : String(e)));
