#!/usr/bin/python3
"""The bad-file catalogue: broken images and models, made byte by byte.

    /usr/bin/python3 tests/data/bad/make_bad.py OUT [--weights DIR] [--table]

writes every case into OUT and OUT/cases.tsv, one line per case:

    name  kind  outcome  http  fragment  what  serve-fragment

kind: image (given to `docrt ocr` and POSTed to `docrt serve`) or model
(given as --det-model to `docrt ocr` and `docrt serve`, with the
detector's description copied beside it). outcome: `error` (the file, or
one of its pages, is refused with a message containing `fragment`) or `ok`
(the file is read: docrt handles it, e.g. an IFD chain that loops back).
http: the status `docrt serve` answers for an image case. test_bad_catalogue
asserts all of it; --table prints the table of tests/data/bad/README.md.

Nothing is stored in the repository as a binary: the generator is the
catalogue. Needs python3-numpy and python3-opencv (the valid files that
the cases start from) and python3-onnx (the model cases).
"""
import os
import shutil
import struct
import sys
import zlib

import cv2
import numpy as np

CASES = []  # (name, kind, outcome, http, fragment, what, serve fragment)


def case(name, kind, outcome, http, fragment, what, data, out, srv=None):
    """srv: the server's fragment where it differs from docrt ocr's."""
    with open(os.path.join(out, name), 'wb') as f:
        f.write(data)
    CASES.append((name, kind, outcome, http, fragment, what,
                  fragment if srv is None else srv))


# ---- a page to break ----

def page(w=160, h=48):
    g = np.full((h, w), 255, np.uint8)
    cv2.putText(g, 'Docrt 42', (6, 34), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2)
    return g


# ---- TIFF, written by hand: header, IFDs, then data ----

def ifd_bytes(entries, next_off, base):
    """One classic little-endian IFD at offset base; entries: (tag, type,
    values). Values that do not fit 4 bytes go after the IFD."""
    entries = sorted(entries)
    size = 2 + 12 * len(entries) + 4
    extra = b''
    body = struct.pack('<H', len(entries))
    fmt = {3: 'H', 4: 'I', 5: 'II'}
    for tag, typ, vals in entries:
        if typ == 5:
            raw = b''.join(struct.pack('<II', *v) for v in vals)
        else:
            raw = struct.pack('<%d%s' % (len(vals), fmt[typ]), *vals)
        if len(raw) <= 4:
            body += struct.pack('<HHI', tag, typ, len(vals)) + raw.ljust(4, b'\0')
        else:
            off = base + size + len(extra)
            body += struct.pack('<HHII', tag, typ, len(vals), off)
            extra += raw + (b'\0' if len(raw) % 2 else b'')
    return body + struct.pack('<I', next_off) + extra


def tiff(w, h, data, bps=8, photometric=1, compression=1, rows=None,
         strip_offset=None, extra=(), spp=1):
    """A one-strip TIFF with the IFD first, the strip data last."""
    rows = rows or h
    ents = [(256, 4, [w]), (257, 4, [h]), (258, 3, [bps] * spp),
            (259, 3, [compression]), (262, 3, [photometric]),
            (277, 3, [spp]), (278, 4, [rows]), (279, 4, [len(data)]),
            (282, 5, [(300, 1)]), (283, 5, [(300, 1)]), (296, 3, [2])]
    ents += list(extra)
    # data offset: after header and IFD (IFD size does not depend on it)
    probe = ifd_bytes(ents + [(273, 4, [0])], 0, 8)
    off = 8 + len(probe)
    ents.append((273, 4, [strip_offset if strip_offset is not None else off]))
    return b'II*\0' + struct.pack('<I', 8) + ifd_bytes(ents, 0, 8) + data


def tiff_chain(n_pages, loop_to=None):
    """n_pages 1x1 bilevel pages, one IFD each; the last IFD points back to
    IFD loop_to (0-based) when given."""
    ents = lambda: [(256, 4, [1]), (257, 4, [1]), (258, 3, [1]),
                    (259, 3, [1]), (262, 3, [0]), (273, 4, [8]),
                    (277, 3, [1]), (278, 4, [1]), (279, 4, [1])]
    size = len(ifd_bytes(ents(), 0, 0))
    first = 16
    out = [b'II*\0' + struct.pack('<I', first) + b'\0' * 8]  # pixel at 8
    for i in range(n_pages):
        base = first + i * size
        if i + 1 < n_pages:
            nxt = base + size
        else:
            nxt = first + loop_to * size if loop_to is not None else 0
        out.append(ifd_bytes(ents(), nxt, base))
    return b''.join(out)


# ---- PNG chunks ----

def chunk(typ, data, crc=None):
    c = zlib.crc32(typ + data) if crc is None else crc
    return struct.pack('>I', len(data)) + typ + data + struct.pack('>I', c & 0xffffffff)


def png(w, h, rows, depth=8, color=0):
    raw = b''.join(b'\0' + r for r in rows)
    return (b'\x89PNG\r\n\x1a\n' +
            chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, depth, color, 0, 0, 0)) +
            chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b''))


def jpeg_segments(j):
    """[(marker, payload)] up to SOS; the rest (entropy data + EOI) last."""
    segs, i = [], 2
    while i < len(j):
        assert j[i] == 0xFF
        m = j[i + 1]
        n = struct.unpack('>H', j[i + 2:i + 4])[0]
        segs.append((m, j[i + 4:i + 2 + n]))
        i += 2 + n
        if m == 0xDA:
            return segs, j[i:]
    raise ValueError('no SOS')


def jpeg_join(segs, tail):
    return b'\xff\xd8' + b''.join(
        b'\xff' + bytes([m]) + struct.pack('>H', len(p) + 2) + p
        for m, p in segs) + tail


def images(out):
    g = page()
    h, w = g.shape
    rows = [g[y].tobytes() for y in range(h)]
    ok_png = png(w, h, rows)
    bw = np.packbits(g < 128, axis=1)  # 1 bit, 1 = black (min-is-white)
    bw_raw = bw.tobytes()
    jpg = cv2.imencode('.jpg', g, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()

    # whole-file failures
    case('empty.tif', 'image', 'error', 400, 'empty file (0 bytes)',
         'zero bytes', b'', out, srv='empty body')
    case('text_named.png', 'image', 'error', 422,
         'not an image docrt reads (TIFF, PNG or JPEG)',
         'wrong magic: a text file named .png', b'hello, world\n' * 10, out)
    case('pdf_named.tif', 'image', 'error', 422, 'PDF files are not supported',
         'a PDF named .tif', b'%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n', out)
    case('gif_named.jpg', 'image', 'error', 422, 'GIF files are not supported',
         'a GIF named .jpg', b'GIF89a\x01\x00\x01\x00\x00\x00\x00;', out)

    # TIFF
    good_tif = tiff(w, h, bw_raw, bps=1, photometric=0)
    case('tiff_header_cut.tif', 'image', 'error', 422,
         'truncated: the TIFF header needs 8 bytes',
         'TIFF cut inside its 8-byte header', good_tif[:5], out)
    case('tiff_ifd_cut.tif', 'image', 'error', 422,
         'truncated: the first directory',
         'TIFF cut inside its first directory', good_tif[:40], out)
    for frac in (0.5, 0.9):
        n = int(len(good_tif) - len(bw_raw) * (1 - frac))
        case(f'tiff_strip_cut_{int(frac * 100)}.tif', 'image', 'error', 422,
             'truncated: strip 0 needs bytes',
             f'TIFF cut at {int(frac * 100)} % of its strip data',
             good_tif[:n], out)
    case('tiff_no_pages.tif', 'image', 'error', 422, 'the TIFF has no pages',
         'first directory offset 0', b'II*\0\0\0\0\0' + b'\0' * 16, out)
    case('tiff_bad_byte_order.tif', 'image', 'error', 422,
         'not an image docrt reads', "byte-order mark 'IM'",
         b'IM*\0' + good_tif[4:], out)
    case('tiff_huge_dims.tif', 'image', 'error', 422,
         'pixels, over the limit of',
         '100000 x 100000 declared, 1 strip of data',
         tiff(100000, 100000, bw_raw, bps=1, photometric=0), out)
    case('tiff_zero_width.tif', 'image', 'error', 422,
         "cannot read the page's directory",
         'width 0', tiff(0, h, bw_raw, bps=1, photometric=0), out)
    case('tiff_bad_strip_offset.tif', 'image', 'error', 422,
         'truncated: strip 0 needs bytes',
         'strip offset past the end of the file',
         tiff(w, h, bw_raw, bps=1, photometric=0, strip_offset=1 << 30), out)
    case('tiff_g4_garbage.tif', 'image', 'ok', 200, '',
         'CCITT G4, random strip data: libtiff decodes it to noise (its '
         'errors are per line), so the page is read and has no text',
         tiff(w, h, np.random.default_rng(4).integers(0, 256, 600, np.uint8).tobytes(),
              bps=1, photometric=0, compression=4), out)
    case('tiff_g3_garbage.tif', 'image', 'error', 422,
         'cannot decode', 'CCITT G3 compression, random strip data',
         tiff(w, h, np.random.default_rng(3).integers(0, 256, 600, np.uint8).tobytes(),
              bps=1, photometric=0, compression=3), out)
    case('tiff_lzw_garbage.tif', 'image', 'error', 422,
         'cannot decode', 'LZW compression, random strip data',
         tiff(w, h, np.random.default_rng(5).integers(0, 256, 900, np.uint8).tobytes(),
              compression=5), out)
    case('tiff_unknown_compression.tif', 'image', 'error', 422,
         'compression', 'compression scheme 40000 (none such)',
         tiff(w, h, g.tobytes(), compression=40000), out)
    case('tiff_bps_3.tif', 'image', 'error', 422, 'unsupported TIFF',
         '3 bits per sample, photometric separated',
         tiff(w, h, g.tobytes()[:w * h * 3 // 8], bps=3, photometric=5), out)
    case('tiff_tile_huge.tif', 'image', 'error', 422,
         'over the page limit', 'tiles of 1048576 x 1048576 pixels',
         tiff(w, h, g.tobytes(), extra=[(322, 4, [1 << 20]), (323, 4, [1 << 20]),
                                        (324, 4, [8]), (325, 4, [len(g.tobytes())])]), out)
    case('tiff_65535_pages.tif', 'image', 'error', 422,
         'the TIFF has more than 10000 pages',
         '65,535 directories of 1x1 pages (over --max-pages)',
         tiff_chain(65535), out)
    case('tiff_ifd_self_loop.tif', 'image', 'ok', 200, '',
         'the only directory points to itself: read as 1 page',
         tiff_chain(1, loop_to=0), out)
    case('tiff_ifd_loop_back.tif', 'image', 'ok', 200, '',
         'directory 3 points back to directory 1: read as 3 pages',
         tiff_chain(3, loop_to=0), out)

    # PNG
    sig, rest = ok_png[:8], ok_png[8:]
    ihdr = rest[:25]
    bad_crc = ihdr[:21] + bytes([ihdr[21] ^ 0xFF]) + ihdr[22:]
    case('png_ihdr_bad_crc.png', 'image', 'error', 422, 'CRC',
         'IHDR CRC wrong', sig + bad_crc + rest[25:], out)
    idat_at = ok_png.index(b'IDAT') - 4
    idat_len = struct.unpack('>I', ok_png[idat_at:idat_at + 4])[0]
    data_crc = bytearray(ok_png)
    data_crc[idat_at + 8 + idat_len] ^= 0x55
    case('png_idat_bad_crc.png', 'image', 'error', 422, 'CRC',
         'IDAT CRC wrong', bytes(data_crc), out)
    huge_len = bytearray(ok_png)
    huge_len[idat_at:idat_at + 4] = struct.pack('>I', 0x7FFFFFF0)
    case('png_chunk_length_huge.png', 'image', 'error', 422,
         'runs past the end of the file',
         'IDAT length 0x7ffffff0 (past the end of the file)', bytes(huge_len), out)
    neg_len = bytearray(ok_png)
    neg_len[idat_at:idat_at + 4] = b'\xff\xff\xff\xff'
    case('png_chunk_length_negative.png', 'image', 'error', 422,
         'runs past the end of the file',
         'IDAT length 0xffffffff (over 2^31 - 1)', bytes(neg_len), out)
    case('png_signature_only.png', 'image', 'error', 422, 'truncated',
         'the 8-byte signature and nothing else', sig, out)
    case('png_idat_cut.png', 'image', 'error', 422, 'truncated',
         'cut in the middle of IDAT', ok_png[:idat_at + 8 + idat_len // 2], out)
    case('png_no_idat.png', 'image', 'error', 422, 'IEND: out of place',
         'IHDR then IEND, no image data', sig + ihdr + chunk(b'IEND', b''), out)
    case('png_huge_dims.png', 'image', 'error', 422, 'pixels, over the limit of',
         '100000 x 100000 declared in IHDR',
         sig + chunk(b'IHDR', struct.pack('>IIBBBBB', 100000, 100000, 8, 0, 0, 0, 0))
         + rest[25:], out)
    case('png_zero_width.png', 'image', 'error', 422, 'Invalid IHDR data',
         'IHDR width 0',
         sig + chunk(b'IHDR', struct.pack('>IIBBBBB', 0, h, 8, 0, 0, 0, 0))
         + rest[25:], out)
    case('png_bad_depth.png', 'image', 'error', 422, 'Invalid IHDR data',
         'IHDR bit depth 7',
         sig + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 7, 0, 0, 0, 0))
         + rest[25:], out)
    # a decompression bomb: 9000 x 9000 zero rows deflate to ~80 kB, and
    # the page is over the default limit (A3 at 600 dpi, 69.6 M pixels)
    bomb_rows = zlib.compress(b'\0' * (9001 * 9000), 9)
    case('png_bomb.png', 'image', 'error', 422, 'pixels, over the limit of',
         '9000 x 9000 declared, 80 kB compressed (a decompression bomb)',
         sig + chunk(b'IHDR', struct.pack('>IIBBBBB', 9000, 9000, 8, 0, 0, 0, 0))
         + chunk(b'IDAT', bomb_rows) + chunk(b'IEND', b''), out)

    # JPEG
    segs, tail = jpeg_segments(jpg)
    case('jpeg_soi_eoi.jpg', 'image', 'error', 422, 'corrupt JPEG',
         'SOI then EOI: no frame', b'\xff\xd8\xff\xd9', out)
    case('jpeg_cut_half.jpg', 'image', 'error', 422, 'truncated',
         'cut in the middle of the scan', jpg[:len(jpg) // 2], out)
    case('jpeg_cut_header.jpg', 'image', 'error', 422, 'truncated',
         'cut before the scan starts', jpg[:len(jpg) - len(tail) - 40], out)
    no_dht = [(m, p) for m, p in segs if m != 0xC4]
    case('jpeg_no_dht.jpg', 'image', 'ok', 200, '',
         'Huffman tables removed: libjpeg supplies the standard ones',
         jpeg_join(no_dht, tail), out)
    no_dqt = [(m, p) for m, p in segs if m != 0xDB]
    case('jpeg_no_dqt.jpg', 'image', 'error', 422, 'corrupt JPEG',
         'quantization tables removed', jpeg_join(no_dqt, tail), out)
    no_sof = [(m, p) for m, p in segs if m != 0xC0]
    case('jpeg_no_sof.jpg', 'image', 'error', 422, 'corrupt JPEG',
         'frame header (SOF0) removed', jpeg_join(no_sof, tail), out)

    def sof_dims(hh, ww):
        s = []
        for m, p in segs:
            if m == 0xC0:
                p = p[:1] + struct.pack('>HH', hh, ww) + p[5:]
            s.append((m, p))
        return jpeg_join(s, tail)
    case('jpeg_huge_dims.jpg', 'image', 'error', 422, 'pixels, over the limit of',
         '65000 x 65000 in SOF0', sof_dims(65000, 65000), out)
    case('jpeg_zero_height.jpg', 'image', 'error', 422, 'corrupt JPEG',
         'height 0 in SOF0 (DNL)', sof_dims(0, w), out)
    case('jpeg_no_eoi.jpg', 'image', 'error', 422, 'truncated',
         'EOI marker removed (libjpeg cannot tell it from a cut scan)',
         jpg[:-2], out)

    # a good page among them, and a 2-page TIFF whose second page is cut
    case('good.png', 'image', 'ok', 200, '', 'a valid page (control)', ok_png, out)
    p2 = tiff_two_pages_second_cut(w, h, bw_raw)
    case('tiff_page2_cut.tif', 'image', 'error', 200, 'page 2: truncated',
         '2 pages, the second one cut: page 1 is read', p2, out)


def tiff_two_pages_second_cut(w, h, bw_raw):
    """Two IFDs first, then both strips; the file ends half-way into the
    second strip."""
    def ents(off):
        return [(256, 4, [w]), (257, 4, [h]), (258, 3, [1]), (259, 3, [1]),
                (262, 3, [0]), (273, 4, [off]), (277, 3, [1]), (278, 4, [h]),
                (279, 4, [len(bw_raw)])]
    size = len(ifd_bytes(ents(0), 0, 0))
    data0 = 8 + 2 * size
    i0 = ifd_bytes(ents(data0), 8 + size, 8)
    i1 = ifd_bytes(ents(data0 + len(bw_raw)), 0, 8 + size)
    f = b'II*\0' + struct.pack('<I', 8) + i0 + i1 + bw_raw + bw_raw
    return f[:len(f) - len(bw_raw) // 2]


def models(out, weights):
    import onnx
    from onnx import TensorProto as T, helper as hp, numpy_helper as nh
    desc = os.path.join(weights, 'ch_PP-OCRv4_det_infer.json')

    def model_case(name, fragment, what, data):
        case(name, 'model', 'error', 0, fragment, what, data, out)
        shutil.copy(desc, os.path.join(out, name[:-5] + '.json'))

    def graph(nodes, inputs, outputs, inits=()):
        m = hp.make_model(hp.make_graph(nodes, 'g', inputs, outputs,
                                        initializer=list(inits)),
                          opset_imports=[hp.make_opsetid('', 13)])
        m.ir_version = 8
        return m.SerializeToString()

    x = hp.make_tensor_value_info('x', T.FLOAT, [1, 3, 'h', 'w'])
    y = hp.make_tensor_value_info('y', T.FLOAT, None)
    w = nh.from_array(np.ones((1, 3, 3, 3), np.float32), 'w')
    good = graph([hp.make_node('Conv', ['x', 'w'], ['c'], pads=[1, 1, 1, 1]),
                  hp.make_node('Sigmoid', ['c'], ['y'])], [x], [y], [w])
    model_case('model_empty.onnx', 'empty file', 'zero bytes', b'')
    model_case('model_garbage.onnx', 'not a valid ONNX',
               'random bytes', np.random.default_rng(7).integers(0, 256, 4096, np.uint8).tobytes())
    model_case('model_cut.onnx', 'not a valid ONNX', 'a valid model cut at 60 %',
               good[:len(good) * 6 // 10])
    model_case('model_cycle.onnx', 'is not produced by any earlier node',
               'a cycle: Add reads b, which Relu makes from Add\'s output',
               graph([hp.make_node('Relu', ['x', ], ['a0']),
                      hp.make_node('Add', ['a0', 'b'], ['a']),
                      hp.make_node('Relu', ['a'], ['b']),
                      hp.make_node('Sigmoid', ['b'], ['y'])], [x], [y]))
    model_case('model_dangling_input.onnx', "input 'ghost' is not produced",
               "a node input that no node, initializer or graph input makes",
               graph([hp.make_node('Add', ['x', 'ghost'], ['y'])], [x], [y]))
    xa = hp.make_tensor_value_info('x', T.FLOAT, [1, 3, 1 << 40, 1 << 40])
    model_case('model_absurd_shape.onnx', 'more than 2^34 elements',
               'input declared 1 x 3 x 2^40 x 2^40',
               graph([hp.make_node('Sigmoid', ['x'], ['y'])], [xa], [y]))
    xn = hp.make_tensor_value_info('x', T.FLOAT, [1, 3, -5, 32])
    model_case('model_negative_dim.onnx', 'is -5 (negative)',
               'input declared with a dimension of -5',
               graph([hp.make_node('Sigmoid', ['x'], ['y'])], [xn], [y]))
    model_case('model_unknown_op.onnx', 'op FancyOp',
               'an op docrt does not have',
               graph([hp.make_node('FancyOp', ['x'], ['y'])], [x], [y]))
    big = onnx.TensorProto()
    big.name, big.data_type = 'w', T.FLOAT
    big.dims.extend([1 << 20, 1 << 12])
    big.raw_data = b'\0' * 64
    model_case('model_initializer_without_data.onnx', 'bytes of data, shape needs',
               'a 2^32-element initializer holding 64 bytes',
               graph([hp.make_node('Conv', ['x', 'w'], ['y'])], [x], [y], [big]))
    model_case('model_no_nodes.onnx', "graph output 'y' is not produced",
               'a graph with no nodes: its output is made by nothing',
               graph([], [x], [y]))


def main():
    args = sys.argv[1:]
    table = '--table' in args
    args = [a for a in args if a != '--table']
    weights = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'weights')
    if '--weights' in args:
        i = args.index('--weights')
        weights = args[i + 1]
        del args[i:i + 2]
    if len(args) != 1:
        sys.exit(__doc__)
    out = args[0]
    os.makedirs(out, exist_ok=True)
    images(out)
    models(out, weights)
    with open(os.path.join(out, 'cases.tsv'), 'w') as f:
        for c in CASES:
            f.write('\t'.join(str(v) for v in c) + '\n')
    if table:
        print('| case | what is wrong | docrt ocr | docrt serve |')
        print('|---|---|---|---|')
        for name, kind, outcome, http, frag, what, sfrag in CASES:
            ocr = 'read, exit 0' if outcome == 'ok' else f'error: "{frag}"'
            if kind == 'model':
                srv = 'does not start: "' + frag + '"'
            else:
                srv = f'{http}' + (f': "{sfrag}"' if sfrag else '')
            print(f'| `{name}` | {what} | {ocr} | {srv} |')
    else:
        print(f'make_bad: {len(CASES)} cases in {out}')


if __name__ == '__main__':
    main()
