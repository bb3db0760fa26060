#!/usr/bin/python3
"""Seed corpora for docrt's fuzz targets: small valid inputs of every kind.

    /usr/bin/python3 tests/fuzz/make_seeds.py OUT

writes OUT/image (TIFF in every compression and layout docrt reads, PNG and
JPEG variants), OUT/npy, OUT/onnx (small models built with onnx.helper plus
the node models of libonnx-testdata whose ops docrt supports) and OUT/http
(raw HTTP/1.1 requests: every route, raw and multipart uploads, chunked
bodies, query strings). Nothing here is hand-edited: the fuzzers mutate it.
Needs python3-numpy, python3-opencv, python3-onnx, ImageMagick, tiffcp.
"""
import glob
import io
import os
import shutil
import subprocess
import sys
import tempfile

import cv2
import numpy as np

ONNX_TESTDATA = '/usr/share/libonnx-testdata/data/node'


def small_page(w=48, h=32, seed=0):
    """A grey page with a few dark strokes (text-like, compresses well)."""
    rng = np.random.default_rng(seed)
    g = np.full((h, w), 255, np.uint8)
    for y in range(4, h - 4, 9):
        x = 3
        while x < w - 6:
            n = int(rng.integers(2, 6))
            g[y:y + 5, x:x + n] = 20
            x += n + int(rng.integers(1, 4))
    return g


def write(path, data):
    with open(path, 'wb') as f:
        f.write(data)


def images(out):
    tmp = tempfile.mkdtemp()
    try:
        g = small_page()
        rgb = cv2.merge([g, np.roll(g, 3, 1), np.roll(g, 5, 0)])
        ok, b = cv2.imencode('.png', g)
        write(f'{out}/grey.png', b.tobytes())
        write(f'{out}/rgb.png', cv2.imencode('.png', rgb)[1].tobytes())
        rgba = cv2.cvtColor(rgb, cv2.COLOR_BGR2BGRA)
        rgba[:, :10, 3] = 0
        write(f'{out}/rgba.png', cv2.imencode('.png', rgba)[1].tobytes())
        write(f'{out}/grey16.png',
              cv2.imencode('.png', g.astype(np.uint16) * 257)[1].tobytes())
        write(f'{out}/grey.jpg', cv2.imencode('.jpg', g)[1].tobytes())
        write(f'{out}/rgb.jpg', cv2.imencode('.jpg', rgb)[1].tobytes())
        write(f'{out}/progressive.jpg',
              cv2.imencode('.jpg', rgb, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])[1].tobytes())
        # EXIF Orientation 6 (turn 90 degrees clockwise), an APP1 segment
        # after SOI: "Exif\0\0", a little-endian TIFF header, one IFD entry
        jpg = cv2.imencode('.jpg', rgb)[1].tobytes()
        tiff = (b'II*\0' + (8).to_bytes(4, 'little') + (1).to_bytes(2, 'little')
                + (0x0112).to_bytes(2, 'little') + (3).to_bytes(2, 'little')
                + (1).to_bytes(4, 'little') + (6).to_bytes(4, 'little')
                + (0).to_bytes(4, 'little'))
        app1 = b'Exif\0\0' + tiff
        write(f'{out}/exif_rot.jpg', jpg[:2] + b'\xff\xe1' +
              (len(app1) + 2).to_bytes(2, 'big') + app1 + jpg[2:])
        src = f'{tmp}/page.png'
        cv2.imwrite(src, rgb)
        cv2.imwrite(f'{tmp}/grey.png', g)
        im = ['convert']
        # ImageMagick: formats cv2 does not write
        for name, args in [
            ('interlaced.png', ['-interlace', 'PNG', src]),
            ('palette.png', [src, '-colors', '8', 'PNG8:-']),
            ('bilevel.png', [f'{tmp}/grey.png', '-monochrome']),
            ('cmyk.jpg', [src, '-colorspace', 'CMYK']),
        ]:
            dst = f'{out}/{name}'
            if args[-1].endswith(':-'):
                args = args[:-1] + [f'PNG8:{dst}']
                subprocess.run(im + args, check=True)
            else:
                subprocess.run(im + args + [dst], check=True)
        # TIFF: one uncompressed source each for grey, RGB and bilevel, then
        # tiffcp for the compressions and layouts
        subprocess.run(im + [f'{tmp}/grey.png', '-compress', 'None',
                             f'{tmp}/grey.tif'], check=True)
        subprocess.run(im + [src, '-compress', 'None', f'{tmp}/rgb.tif'],
                       check=True)
        subprocess.run(im + [f'{tmp}/grey.png', '-threshold', '50%', '-depth',
                             '1', '-compress', 'None', f'{tmp}/bw.tif'],
                       check=True)
        for name, srcf, args in [
            ('grey_none.tif', 'grey', ['-c', 'none']),
            ('grey_lzw.tif', 'grey', ['-c', 'lzw:2']),
            ('grey_zip.tif', 'grey', ['-c', 'zip']),
            ('grey_packbits.tif', 'grey', ['-c', 'packbits']),
            ('grey_jpeg.tif', 'grey', ['-c', 'jpeg']),
            ('grey_tiled.tif', 'grey', ['-t', '-w', '16', '-l', '16']),
            ('grey_strips.tif', 'grey', ['-r', '3']),
            ('rgb_lzw.tif', 'rgb', ['-c', 'lzw']),
            ('rgb_separate.tif', 'rgb', ['-p', 'separate']),
            ('rgb_jpeg.tif', 'rgb', ['-c', 'jpeg']),
            ('rgb_tiled_zip.tif', 'rgb', ['-c', 'zip', '-t', '-w', '16', '-l', '16']),
            ('bw_g3.tif', 'bw', ['-c', 'g3']),
            ('bw_g3_2d.tif', 'bw', ['-c', 'g3:2d']),
            ('bw_g4.tif', 'bw', ['-c', 'g4']),
            ('bw_packbits.tif', 'bw', ['-c', 'packbits']),
        ]:
            subprocess.run(['tiffcp'] + args + [f'{tmp}/{srcf}.tif',
                                                f'{out}/{name}'], check=True)
        subprocess.run(['tiffcp', '-c', 'g4', f'{tmp}/bw.tif', f'{tmp}/bw.tif',
                        f'{tmp}/bw.tif', f'{out}/multipage_g4.tif'], check=True)
        subprocess.run(im + [f'{tmp}/grey.png', '-depth', '16', '-compress',
                             'None', f'{out}/grey16.tif'], check=True)
        subprocess.run(im + [src, '-colors', '16', '-type', 'Palette',
                             '-compress', 'None', f'{out}/palette.tif'],
                       check=True)
        subprocess.run(im + [src, '-colorspace', 'CMYK', '-compress', 'None',
                             f'{out}/cmyk.tif'], check=True)
        subprocess.run(im + [f'{tmp}/grey.png', '-orient', 'LeftBottom',
                             '-compress', 'LZW', f'{out}/orient8.tif'],
                       check=True)
        subprocess.run(im + [f'{tmp}/grey.png', '-define', 'tiff:endian=msb',
                             '-compress', 'LZW', f'{out}/bigendian.tif'],
                       check=True)
    finally:
        shutil.rmtree(tmp)


def npys(out):
    def save(name, a, **kw):
        buf = io.BytesIO()
        np.lib.format.write_array(buf, a, **kw)
        write(f'{out}/{name}', buf.getvalue())
    save('f32_4d.npy', np.arange(24, dtype='<f4').reshape(1, 2, 3, 4))
    save('f32_1d.npy', np.ones(5, '<f4'))
    save('f32_scalar.npy', np.float32(3.5).reshape(()))
    save('f32_empty.npy', np.zeros((0, 3), '<f4'))
    save('i64_2d.npy', np.arange(6, dtype='<i8').reshape(2, 3))
    save('f32_v2.npy', np.ones((2, 2), '<f4'), version=(2, 0))
    save('f32_fortran.npy', np.asfortranarray(np.ones((2, 3), '<f4')))
    save('f64.npy', np.ones(3, '<f8'))
    save('u8.npy', np.ones(3, 'u1'))


def onnx_models(out):
    import onnx
    from onnx import TensorProto as T, helper as h, numpy_helper as nh

    rng = np.random.default_rng(1)

    def const(name, a):
        return h.make_node('Constant', [], [name], value=nh.from_array(a, name))

    def model(name, nodes, inputs, outputs, inits=(), opset=13):
        g = h.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
        m = h.make_model(g, opset_imports=[h.make_opsetid('', opset)])
        m.ir_version = 8
        write(f'{out}/{name}.onnx', m.SerializeToString())

    f = lambda *a: rng.standard_normal(a).astype(np.float32)
    x4 = h.make_tensor_value_info('x', T.FLOAT, ['n', 3, 'h', 'w'])
    y = h.make_tensor_value_info('y', T.FLOAT, None)
    model('conv_relu', [
        const('w', f(4, 3, 3, 3)), const('b', f(4)),
        h.make_node('Conv', ['x', 'w', 'b'], ['c'], pads=[1, 1, 1, 1]),
        h.make_node('Relu', ['c'], ['y'])], [x4], [y])
    model('conv_bn_pool', [
        h.make_node('Conv', ['x', 'w'], ['c'], strides=[2, 2]),
        h.make_node('BatchNormalization', ['c', 's', 'bb', 'm', 'v'], ['n']),
        h.make_node('HardSwish', ['n'], ['a']),
        h.make_node('MaxPool', ['a'], ['y'], kernel_shape=[2, 2], strides=[2, 2])],
        [x4], [y], [nh.from_array(f(4, 3, 3, 3), 'w'), nh.from_array(f(4), 's'),
                    nh.from_array(f(4), 'bb'), nh.from_array(f(4), 'm'),
                    nh.from_array(np.abs(f(4)) + 1, 'v')])
    model('resize_concat', [
        h.make_node('Resize', ['x', '', 'sc'], ['r'], mode='nearest'),
        h.make_node('Concat', ['r', 'r'], ['y'], axis=1)],
        [x4], [y], [nh.from_array(np.array([1, 1, 2, 2], np.float32), 'sc')])
    model('convtranspose_sigmoid', [
        h.make_node('ConvTranspose', ['x', 'w'], ['t'], strides=[2, 2]),
        h.make_node('Sigmoid', ['t'], ['y'])],
        [x4], [y], [nh.from_array(f(3, 2, 2, 2), 'w')])
    x3 = h.make_tensor_value_info('x', T.FLOAT, [1, 'l', 8])
    model('matmul_softmax', [
        h.make_node('MatMul', ['x', 'w'], ['m']),
        h.make_node('Add', ['m', 'b'], ['a']),
        h.make_node('Softmax', ['a'], ['y'], axis=-1)],
        [x3], [y], [nh.from_array(f(8, 6), 'w'), nh.from_array(f(6), 'b')])
    model('reshape_transpose', [
        h.make_node('Shape', ['x'], ['s']),
        h.make_node('Transpose', ['x'], ['t'], perm=[0, 2, 1]),
        h.make_node('Reshape', ['t', 'shp'], ['r']),
        h.make_node('ReduceMean', ['r'], ['y'], axes=[-1])],
        [x3], [y], [nh.from_array(np.array([1, 8, -1], np.int64), 'shp')])
    model('layernorm_gelu', [
        h.make_node('ReduceMean', ['x'], ['mu'], axes=[-1]),
        h.make_node('Sub', ['x', 'mu'], ['d']),
        h.make_node('Mul', ['d', 'd'], ['d2']),
        h.make_node('ReduceMean', ['d2'], ['var'], axes=[-1]),
        h.make_node('Add', ['var', 'eps'], ['ve']),
        h.make_node('Sqrt', ['ve'], ['sd']),
        h.make_node('Div', ['d', 'sd'], ['n']),
        h.make_node('Erf', ['n'], ['y'])],
        [x3], [y], [nh.from_array(np.array(1e-5, np.float32), 'eps')])
    xs = h.make_tensor_value_info('x', T.FLOAT, ['t', 1, 4])
    model('lstm', [
        h.make_node('LSTM', ['x', 'W', 'R', 'B'], ['y'], hidden_size=3,
                    direction='bidirectional')],
        [xs], [y], [nh.from_array(f(2, 12, 4), 'W'), nh.from_array(f(2, 12, 3), 'R'),
                    nh.from_array(f(2, 24), 'B')])
    model('slice_gather', [
        h.make_node('Slice', ['x', 'st', 'en', 'ax'], ['s']),
        h.make_node('Gather', ['s', 'idx'], ['g'], axis=2),
        h.make_node('Flatten', ['g'], ['y'])],
        [x4], [y], [nh.from_array(np.array([1], np.int64), 'st'),
                    nh.from_array(np.array([3], np.int64), 'en'),
                    nh.from_array(np.array([1], np.int64), 'ax'),
                    nh.from_array(np.array([0, 1], np.int64), 'idx')])
    # ONNX's own node tests whose ops docrt lowers (small, valid, varied)
    keep = ('conv', 'relu', 'sigmoid', 'add', 'mul', 'matmul', 'gemm',
            'reshape', 'transpose', 'concat', 'slice', 'resize', 'maxpool',
            'averagepool', 'batchnorm', 'softmax', 'lstm', 'pad', 'clip',
            'hardswish', 'hardsigmoid', 'squeeze', 'unsqueeze', 'gather',
            'reduce_mean', 'split', 'flatten', 'globalaveragepool', 'tanh',
            'argmax', 'expand', 'shape', 'cast', 'constantofshape', 'where')
    for d in sorted(glob.glob(f'{ONNX_TESTDATA}/test_*')):
        name = os.path.basename(d)[5:]
        p = f'{d}/model.onnx'
        if (name.startswith(keep) and os.path.getsize(p) < 4096
                and os.path.exists(p)):
            shutil.copy(p, f'{out}/node_{name}.onnx')


def http_requests(out, image_dir):
    png = open(f'{image_dir}/grey.png', 'rb').read()
    tif = open(f'{image_dir}/multipage_g4.tif', 'rb').read()
    jpg = open(f'{image_dir}/grey.jpg', 'rb').read()

    def req(name, head, body=b''):
        write(f'{out}/{name}.http', head.replace('\n', '\r\n').encode() + body)

    req('get_healthz', 'GET /healthz HTTP/1.1\nHost: x\n\n')
    req('get_readyz', 'GET /readyz HTTP/1.1\nHost: x\nConnection: close\n\n')
    req('get_metrics', 'GET /metrics HTTP/1.1\nHost: x\n\n')
    req('head_healthz', 'HEAD /healthz HTTP/1.0\n\n')
    req('not_found', 'GET /nope?a=b HTTP/1.1\nHost: x\n\n')
    req('get_ocr', 'GET /v1/ocr HTTP/1.1\nHost: x\n\n')
    req('post_png', f'POST /v1/ocr HTTP/1.1\nHost: x\nContent-Type: image/png\n'
        f'Content-Length: {len(png)}\n\n', png)
    req('post_tif_pages', f'POST /v1/ocr?format=json&pages=2-3 HTTP/1.1\nHost: x\n'
        f'Content-Type: image/tiff\nContent-Length: {len(tif)}\n\n', tif)
    req('post_jpg_txt', f'POST /v1/ocr?format=txt&pages=1- HTTP/1.1\nHost: x\n'
        f'Content-Type: image/jpeg; charset=binary\nContent-Length: {len(jpg)}\n\n', jpg)
    req('post_octet_hocr', f'POST /v1/ocr?format=hocr HTTP/1.1\nHost: x\n'
        f'Content-Type: application/octet-stream\nContent-Length: {len(png)}\n\n', png)
    chunks = b''.join(b'%x\r\n' % len(png[i:i + 100]) + png[i:i + 100] + b'\r\n'
                      for i in range(0, len(png), 100)) + b'0\r\n\r\n'
    req('post_chunked', 'POST /v1/ocr?format=alto HTTP/1.1\nHost: x\n'
        'Content-Type: image/png\nTransfer-Encoding: chunked\n\n', chunks)
    bnd = b'docrtfuzzboundary'
    mp = (b'--' + bnd + b'\r\nContent-Disposition: form-data; name="note"\r\n\r\n'
          b'hello\r\n--' + bnd + b'\r\nContent-Disposition: form-data; '
          b'name="file"; filename="p.png"\r\nContent-Type: image/png\r\n\r\n' +
          png + b'\r\n--' + bnd + b'--\r\n')
    req('post_multipart', 'POST /v1/ocr?pages=1 HTTP/1.1\nHost: x\nContent-Type: '
        f'multipart/form-data; boundary={bnd.decode()}\nContent-Length: {len(mp)}\n\n', mp)
    req('post_bad_type', 'POST /v1/ocr HTTP/1.1\nHost: x\nContent-Type: text/plain\n'
        'Content-Length: 5\n\nhello')
    req('post_too_big', 'POST /v1/ocr HTTP/1.1\nHost: x\nContent-Type: image/png\n'
        'Content-Length: 99999999999\n\n')
    req('keepalive_two', 'GET /healthz HTTP/1.1\nHost: x\n\nGET /metrics HTTP/1.1\n'
        'Host: x\nConnection: close\n\n')


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    for t in ('image', 'npy', 'onnx', 'http'):
        os.makedirs(f'{out}/{t}', exist_ok=True)
    images(f'{out}/image')
    npys(f'{out}/npy')
    onnx_models(f'{out}/onnx')
    http_requests(f'{out}/http', f'{out}/image')
    for t in ('image', 'npy', 'onnx', 'http'):
        n = len(os.listdir(f'{out}/{t}'))
        print(f'make_seeds: {out}/{t}: {n} files')


if __name__ == '__main__':
    main()
