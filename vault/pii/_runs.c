/* Printable runs of binary data for vault.pii.extract (optional accelerator).
 *
 * runs(buf) returns [(start, end, utf16), ...]: first every ASCII run of >= 8 printable bytes
 * (tab, 0x20-0x7e), then every UTF-16LE run of >= 8 printable characters (printable byte
 * followed by NUL) - exactly what re.finditer finds for [\t\x20-\x7e]{8,} and
 * (?:[\t\x20-\x7e]\x00){8,} (leftmost, longest, non-overlapping). The pure-Python
 * printable_runs() is the reference; tests compare the two.
 *
 * Every read is bounds-checked against the buffer length; the GIL is released while the
 * buffer is scanned.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>

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

/* One pass, with no data-dependent branch but the rare "a run ends here": ASCII runs by a run
 * length reset on every non-printable byte; UTF-16 runs by one pair count per byte parity
 * (runs at the two parities cannot overlap: inside a run every other byte is NUL). */
static void scan(const uint8_t *b, Py_ssize_t n, Runs *ascii, Runs *wide) {
    Py_ssize_t len = 0;
    Py_ssize_t pairs[2] = {0, 0};
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t p = PRINTABLE[b[i]];
        if (__builtin_expect((len >= MIN_RUN) & (p ^ 1), 0)) push(ascii, i - len, i, 0);
        len = (len + 1) & -p;
        Py_ssize_t q = p & (Py_ssize_t)(i + 1 < n && b[i + 1] == 0);
        Py_ssize_t *k = &pairs[i & 1];
        if (__builtin_expect((*k >= MIN_RUN) & (q ^ 1), 0)) push(wide, i - 2 * *k, i, 1);
        *k = (*k + 1) & -q;
    }
    if (len >= MIN_RUN) push(ascii, n - len, n, 0);
    /* a pair run can only be open at the parity of the last full pair */
    for (Py_ssize_t i = n; i < n + 2; i++) {
        Py_ssize_t k = pairs[i & 1];
        if (k >= MIN_RUN) push(wide, i - 2 * k, i, 1);
        pairs[i & 1] = 0;
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

static PyMethodDef methods[] = {
    {"runs", runs, METH_O, "runs(buf) -> [(start, end, utf16), ...] of printable runs"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_runs", NULL, -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__runs(void) {
    init_table();
    return PyModule_Create(&module);
}
