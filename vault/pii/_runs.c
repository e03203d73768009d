/* Printable runs of binary data for vault.pii.extract (optional accelerator).
 *
 * runs(buf) returns [(start, end, utf16), ...]: first every ASCII run of >= 8 printable bytes
 * (tab, 0x20-0x7e), then every UTF-16LE run of >= 8 printable characters (printable byte
 * followed by NUL) - exactly what re.finditer finds for [\t\x20-\x7e]{8,} and
 * (?:[\t\x20-\x7e]\x00){8,} (leftmost, longest, non-overlapping). The pure-Python
 * printable_runs() is the reference; tests compare the two.
 *
 * Every read is bounds-checked against the buffer length; the GIL is released while the
 * buffer is scanned. Blocks of 64 bytes where no run ends are passed over with bit masks (SSE2
 * where the compiler has it), so random binary data is scanned at several GB/s.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define MIN_RUN 8

static inline int printable(uint8_t c) { return c == '\t' || (c >= 0x20 && c <= 0x7e); }

typedef struct {
    Py_ssize_t *v; /* start, end, utf16 triples */
    Py_ssize_t len, cap;
    int failed;
} Runs;

static void push(Runs *r, Py_ssize_t s, Py_ssize_t e, Py_ssize_t utf16) {
    if (r->failed) return;
    if (r->len + 3 > r->cap) {
        Py_ssize_t cap = r->cap ? r->cap * 2 : 3 * 256;
        Py_ssize_t *v = realloc(r->v, (size_t)cap * sizeof(Py_ssize_t));
        if (v == NULL) { r->failed = 1; return; }
        r->v = v;
        r->cap = cap;
    }
    r->v[r->len++] = s;
    r->v[r->len++] = e;
    r->v[r->len++] = utf16;
}

static uint8_t PRINTABLE[256];

static void init_table(void) {
    for (int c = 0; c < 256; c++) PRINTABLE[c] = (uint8_t)(c == '\t' || (c >= 0x20 && c <= 0x7e));
}

/* The per-byte step: ASCII runs by a run length reset on every non-printable byte; UTF-16 runs
 * by one pair count per byte parity (runs at the two parities cannot overlap: inside a run every
 * other byte is NUL). No data-dependent branch but the rare "a run ends here". */
static inline void step(const uint8_t *b, Py_ssize_t n, Py_ssize_t i, Py_ssize_t *len,
                        Py_ssize_t pairs[2], Runs *ascii, Runs *wide) {
    Py_ssize_t p = PRINTABLE[b[i]];
    if (__builtin_expect((*len >= MIN_RUN) & (p ^ 1), 0)) push(ascii, i - *len, i, 0);
    *len = (*len + 1) & -p;
    Py_ssize_t q = p & (Py_ssize_t)(i + 1 < n && b[i + 1] == 0);
    Py_ssize_t *k = &pairs[i & 1];
    if (__builtin_expect((*k >= MIN_RUN) & (q ^ 1), 0)) push(wide, i - 2 * *k, i, 1);
    *k = (*k + 1) & -q;
}

/* Bit j of *p: byte j of b[0..64) is printable; of *z: it is NUL. */
static inline void masks64(const uint8_t *b, uint64_t *p, uint64_t *z) {
    uint64_t pm = 0, zm = 0;
#if defined(__SSE2__)
    const __m128i lo = _mm_set1_epi8(0x1f), hi = _mm_set1_epi8(0x7f);
    const __m128i tab = _mm_set1_epi8('\t'), nul = _mm_setzero_si128();
    for (int k = 0; k < 4; k++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(b + 16 * k));
        /* signed compares: 0x80-0xff are negative, so "> 0x1f and < 0x7f" is 0x20-0x7e */
        __m128i pr = _mm_or_si128(_mm_and_si128(_mm_cmpgt_epi8(v, lo), _mm_cmplt_epi8(v, hi)),
                                  _mm_cmpeq_epi8(v, tab));
        pm |= (uint64_t)(uint16_t)_mm_movemask_epi8(pr) << (16 * k);
        zm |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, nul)) << (16 * k);
    }
#else
    for (int j = 0; j < 64; j++) {
        pm |= (uint64_t)PRINTABLE[b[j]] << j;
        zm |= (uint64_t)(b[j] == 0) << j;
    }
#endif
    *p = pm;
    *z = zm;
}

#define EVEN 0x5555555555555555ULL

/* Whether no run ends inside the 64-byte block whose printable mask is `pm` and "printable, then
 * NUL" mask `qm`, given the state at its start; if so, the state is moved to the block's end
 * (what 64 steps would do) and 1 returned, else the state is left as it was. */
static inline int skip_block(uint64_t pm, uint64_t qm, Py_ssize_t *len, Py_ssize_t pairs[2]) {
    uint64_t np = ~pm;
    if (np) {
        /* a run of 8 wholly inside the block ends at a non-printable byte */
        uint64_t a = pm & (pm << 1);
        a &= a << 2;
        a &= a << 4; /* bit j: bytes j-7..j printable */
        if ((a << 1) & np) return 0;
        /* the run open at the block's start ends at its first non-printable byte */
        if (*len + __builtin_ctzll(np) >= MIN_RUN) return 0;
    }
    uint64_t nq = ~qm;
    uint64_t c = qm & (qm << 2);
    c &= c << 4;
    c &= c << 8; /* bit j: pairs at j, j-2, ..., j-14 */
    if ((c << 2) & nq) return 0;
    uint64_t zeros[2] = {nq & EVEN, nq & ~EVEN};
    for (int k = 0; k < 2; k++)
        if (zeros[k] && pairs[k] + (__builtin_ctzll(zeros[k]) - k) / 2 >= MIN_RUN) return 0;
    *len = np ? __builtin_clzll(np) : *len + 64;
    for (int k = 0; k < 2; k++)
        pairs[k] = zeros[k] ? (62 + k - (63 - __builtin_clzll(zeros[k]))) / 2 : pairs[k] + 32;
    return 1;
}

/* One pass. Blocks of 64 bytes in which no run ends (most of them in binary data, and those
 * inside a long run) are passed over by bit masks; the others go byte by byte. */
static void scan(const uint8_t *b, Py_ssize_t n, Runs *ascii, Runs *wide) {
    Py_ssize_t len = 0;
    Py_ssize_t pairs[2] = {0, 0};
    Py_ssize_t i = 0;
    /* a block needs the byte after it (is its last byte followed by a NUL?) */
    for (; i + 64 < n; i += 64) {
        uint64_t pm, zm;
        masks64(b + i, &pm, &zm);
        uint64_t qm = pm & ((zm >> 1) | ((uint64_t)(b[i + 64] == 0) << 63));
        if (skip_block(pm, qm, &len, pairs)) continue;
        for (Py_ssize_t j = i; j < i + 64; j++) step(b, n, j, &len, pairs, ascii, wide);
    }
    for (; i < n; i++) step(b, n, i, &len, pairs, ascii, wide);
    if (len >= MIN_RUN) push(ascii, n - len, n, 0);
    /* a pair run can only be open at the parity of the last full pair */
    for (Py_ssize_t e = n; e < n + 2; e++) {
        Py_ssize_t k = pairs[e & 1];
        if (k >= MIN_RUN) push(wide, e - 2 * k, e, 1);
        pairs[e & 1] = 0;
    }
}

static PyObject *runs(PyObject *self, PyObject *arg) {
    (void)self;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) != 0) return NULL;
    Runs ascii = {NULL, 0, 0, 0}, wide = {NULL, 0, 0, 0};
    Py_BEGIN_ALLOW_THREADS
    scan((const uint8_t *)view.buf, view.len, &ascii, &wide);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    PyObject *out = NULL;
    if (ascii.failed || wide.failed) {
        PyErr_NoMemory();
        goto done;
    }
    out = PyList_New((ascii.len + wide.len) / 3);
    if (out == NULL) goto done;
    Py_ssize_t at = 0;
    for (int w = 0; w < 2; w++) {
        Runs *r = w ? &wide : &ascii;
        for (Py_ssize_t k = 0; k < r->len; k += 3) {
            PyObject *t = Py_BuildValue("(nnO)", r->v[k], r->v[k + 1],
                                        r->v[k + 2] ? Py_True : Py_False);
            if (t == NULL) {
                Py_CLEAR(out);
                goto done;
            }
            PyList_SET_ITEM(out, at++, t);
        }
    }
done:
    free(ascii.v);
    free(wide.v);
    return out;
}

/* texts(buf, final, max_carry) -> (list of str, carried): the decoded text of every run of buf,
 * in runs()' order; unless `final`, a stretch of printable or NUL bytes touching buf's end that
 * is shorter than max_carry is left out (it may be the start of a run the next read goes on
 * with) and its length returned as `carried`. One call per read: no Python step per run. */
static PyObject *texts(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view;
    int final;
    Py_ssize_t max_carry;
    if (!PyArg_ParseTuple(args, "y*pn", &view, &final, &max_carry)) return NULL;
    const uint8_t *b = (const uint8_t *)view.buf;
    Py_ssize_t n = view.len, cut = n;
    Runs ascii = {NULL, 0, 0, 0}, wide = {NULL, 0, 0, 0};
    Py_BEGIN_ALLOW_THREADS
    if (!final) {
        Py_ssize_t t = 0;
        while (t < n && t < max_carry && (PRINTABLE[b[n - 1 - t]] || b[n - 1 - t] == 0)) t++;
        if (t > 0 && t < max_carry) cut = n - t;
    }
    scan(b, cut, &ascii, &wide);
    Py_END_ALLOW_THREADS
    PyObject *list = NULL, *out = NULL;
    if (ascii.failed || wide.failed) {
        PyErr_NoMemory();
        goto done;
    }
    list = PyList_New((ascii.len + wide.len) / 3);
    if (list == NULL) goto done;
    Py_ssize_t at = 0;
    for (int w = 0; w < 2; w++) {
        Runs *r = w ? &wide : &ascii;
        for (Py_ssize_t k = 0; k < r->len; k += 3) {
            const char *start = (const char *)b + r->v[k];
            Py_ssize_t size = r->v[k + 1] - r->v[k];
            int little = -1;
            PyObject *t = w ? PyUnicode_DecodeUTF16(start, size, "strict", &little)
                            : PyUnicode_DecodeASCII(start, size, "strict");
            if (t == NULL) goto done;
            PyList_SET_ITEM(list, at++, t);
        }
    }
    out = Py_BuildValue("(On)", list, n - cut);
done:
    Py_XDECREF(list);
    PyBuffer_Release(&view);
    free(ascii.v);
    free(wide.v);
    return out;
}

static PyMethodDef methods[] = {
    {"runs", runs, METH_O, "runs(buf) -> [(start, end, utf16), ...] of printable runs"},
    {"texts", texts, METH_VARARGS,
     "texts(buf, final, max_carry) -> ([text of each run, ...], bytes carried over)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_runs", NULL, -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__runs(void) {
    init_table();
    return PyModule_Create(&module);
}
