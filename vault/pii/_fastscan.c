/* Native PAN candidate finder for vault.pii (optional accelerator).
 *
 * Emulates `rules._PAN_RE.finditer(buf)` over a whole buffer (the same non-overlapping,
 * leftmost matches, the same backtracking outcome for the contiguous, dash-grouped and
 * space-grouped alternatives) and keeps only the matches that can yield a PAN: the number,
 * or for grouped numbers some printed layout of consecutive groups, is in a brand's IIN
 * range and length and passes Luhn. Python then re-matches `_PAN_RE` at each returned start
 * and applies the context rules, so findings are the same as the pure-Python path.
 *
 * The brand table (allowed lengths per 6-digit IIN prefix) and the printed layouts come from
 * vault/pii/cards.py through configure(); nothing card-specific is hard-coded here.
 * ipv4_matches() likewise emulates `rules._IPV4_RE.finditer(buf)` (dotted quads of canonical
 * octets 0-255, bounded by non-alphanumerics, not part of a longer dotted number): the IP
 * handler turns every such match into a finding, so Python only builds the hits.
 *
 * Every read is bounds-checked against the buffer length; the GIL is released while the
 * buffer is scanned.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LAYOUTS 64
#define MAX_LAYOUT_GROUPS 5
#define MAX_S_GROUPS 12 /* first group + up to 11 space-separated groups */

static uint8_t *len_table = NULL; /* [1e6] bit i set: length 12+i allowed for this IIN */
static int n_layouts = 0;
static uint8_t layouts[MAX_LAYOUTS][MAX_LAYOUT_GROUPS + 1]; /* [0] = number of groups */

static inline int is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
static inline int is_alnum(uint8_t c) {
    return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* (?![0-9A-Za-z])(?![.-][0-9]) at position e */
static inline int term_ok(const uint8_t *b, Py_ssize_t n, Py_ssize_t e) {
    if (e >= n) return 1;
    uint8_t c = b[e];
    if (is_alnum(c)) return 0;
    if ((c == '.' || c == '-') && e + 1 < n && is_digit(b[e + 1])) return 0;
    return 1;
}

/* (?<![0-9A-Za-z])(?<![0-9][.-]) at position p */
static inline int lookbehind_ok(const uint8_t *b, Py_ssize_t p) {
    if (p >= 1 && is_alnum(b[p - 1])) return 0;
    if (p >= 2 && is_digit(b[p - 2]) && (b[p - 1] == '.' || b[p - 1] == '-')) return 0;
    return 1;
}

static inline Py_ssize_t run_end(const uint8_t *b, Py_ssize_t n, Py_ssize_t p) {
    while (p < n && is_digit(b[p])) p++;
    return p;
}

/* Luhn + IIN length over the digits of groups [g0, g1) (starts/lens index the buffer). */
static int valid_groups(const uint8_t *b, const Py_ssize_t *starts, const Py_ssize_t *lens,
                        int g0, int g1) {
    int total = 0;
    for (int g = g0; g < g1; g++) total += (int)lens[g];
    if (total < 12 || total > 19 || len_table == NULL) return 0;
    /* first six digits */
    int prefix = 0, got = 0;
    for (int g = g0; g < g1 && got < 6; g++)
        for (Py_ssize_t i = 0; i < lens[g] && got < 6; i++, got++)
            prefix = prefix * 10 + (b[starts[g] + i] - '0');
    if (!(len_table[prefix] & (1u << (total - 12)))) return 0;
    /* Luhn from the right */
    int sum = 0, pos = 0;
    for (int g = g1 - 1; g >= g0; g--)
        for (Py_ssize_t i = lens[g] - 1; i >= 0; i--, pos++) {
            int d = b[starts[g] + i] - '0';
            if (pos & 1) {
                d *= 2;
                if (d > 9) d -= 9;
            }
            sum += d;
        }
    return sum % 10 == 0;
}

static int layout_ok(const Py_ssize_t *lens, int g0, int g1) {
    int k = g1 - g0;
    for (int i = 0; i < n_layouts; i++) {
        if (layouts[i][0] != k) continue;
        int j = 0;
        while (j < k && layouts[i][j + 1] == lens[g0 + j]) j++;
        if (j == k) return 1;
    }
    return 0;
}

typedef struct {
    Py_ssize_t *v;
    size_t len, cap;
    int failed;
} vec_t;

static void vec_push2(vec_t *a, Py_ssize_t x, Py_ssize_t y) {
    if (a->failed) return;
    if (a->len + 2 > a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 256;
        if (cap > ((size_t)-1) / sizeof(Py_ssize_t) / 2) {
            a->failed = 1;
            return;
        }
        Py_ssize_t *v = realloc(a->v, cap * sizeof(Py_ssize_t));
        if (v == NULL) {
            a->failed = 1;
            return;
        }
        a->v = v;
        a->cap = cap;
    }
    a->v[a->len++] = x;
    a->v[a->len++] = y;
}

/* Try `_PAN_RE` at p (b[p] is a digit and the lookbehinds hold). Returns the match end, or
 * -1. Fills the groups of the match (for the validity check). */
static Py_ssize_t match_at(const uint8_t *b, Py_ssize_t n, Py_ssize_t p, Py_ssize_t *starts,
                           Py_ssize_t *lens, int *ngroups, char *sep) {
    Py_ssize_t r = run_end(b, n, p), L = r - p;
    starts[0] = p;
    lens[0] = L;
    *ngroups = 1;
    *sep = 0;
    if (L >= 12 && L <= 19) return term_ok(b, n, r) ? r : -1; /* (?P<c>...) */
    if (L < 4 || L > 6 || r >= n) return -1;
    if (b[r] == '-') { /* (?P<d>[0-9]{4,6}(?:-[0-9]{1,7}){1,4}) */
        Py_ssize_t e = r;
        int k = 0;
        while (k < 4 && e + 1 < n && b[e] == '-' && is_digit(b[e + 1])) {
            Py_ssize_t q = run_end(b, n, e + 1);
            if (q - (e + 1) > 7) break;
            starts[k + 1] = e + 1;
            lens[k + 1] = q - (e + 1);
            k++;
            e = q;
        }
        if (k == 0 || !term_ok(b, n, e)) return -1;
        *ngroups = k + 1;
        *sep = '-';
        return e;
    }
    if (b[r] == ' ') { /* (?P<s>[0-9]{4,6}(?:\x20[0-9]{1,7}){1,11}) */
        Py_ssize_t e = r, prev = r;
        int k = 0;
        while (k < 11 && e + 1 < n && b[e] == ' ' && is_digit(b[e + 1])) {
            Py_ssize_t q = run_end(b, n, e + 1);
            if (q - (e + 1) > 7) break;
            starts[k + 1] = e + 1;
            lens[k + 1] = q - (e + 1);
            k++;
            prev = e;
            e = q;
        }
        if (k == 0) return -1;
        if (!term_ok(b, n, e)) {
            if (k < 2) return -1;
            k--; /* backtrack one group: the match then ends before a space */
            e = prev;
        }
        *ngroups = k + 1;
        *sep = ' ';
        return e;
    }
    return -1;
}

static int may_hold_pan(const uint8_t *b, const Py_ssize_t *starts, const Py_ssize_t *lens,
                        int ng, char sep) {
    if (sep == 0) return valid_groups(b, starts, lens, 0, 1);
    if (sep == '-') return layout_ok(lens, 0, ng) && valid_groups(b, starts, lens, 0, ng);
    for (int i = 0; i < ng; i++) {
        Py_ssize_t total = lens[i];
        for (int size = 2; size <= MAX_LAYOUT_GROUPS && i + size <= ng; size++) {
            total += lens[i + size - 1];
            if (total < 12) continue;
            if (total > 19) break;
            if (layout_ok(lens, i, i + size) && valid_groups(b, starts, lens, i, i + size))
                return 1;
        }
    }
    return 0;
}

static void scan(const uint8_t *b, Py_ssize_t n, int validate, vec_t *out) {
    Py_ssize_t starts[MAX_S_GROUPS], lens[MAX_S_GROUPS];
    int ng;
    char sep;
    Py_ssize_t p = 0;
    while (p < n) {
        /* next digit that starts a run */
        while (p < n && !is_digit(b[p])) p++;
        if (p >= n) break;
        if (!lookbehind_ok(b, p)) {
            p = run_end(b, n, p);
            continue;
        }
        Py_ssize_t e = match_at(b, n, p, starts, lens, &ng, &sep);
        if (e < 0) {
            p = run_end(b, n, p);
            continue;
        }
        if (!validate || may_hold_pan(b, starts, lens, ng, sep)) vec_push2(out, p, e);
        p = e;
    }
}

static PyObject *fs_pan_matches(PyObject *self, PyObject *args, PyObject *kwargs) {
    (void)self;
    static char *kwlist[] = {"buf", "validate", NULL};
    Py_buffer view;
    int validate = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*|p", kwlist, &view, &validate))
        return NULL;
    if (validate && len_table == NULL) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_RuntimeError, "_fastscan.configure() was not called");
        return NULL;
    }
    vec_t out = {NULL, 0, 0, 0};
    Py_BEGIN_ALLOW_THREADS
    scan((const uint8_t *)view.buf, view.len, validate, &out);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (out.failed) {
        free(out.v);
        return PyErr_NoMemory();
    }
    PyObject *res = PyList_New((Py_ssize_t)(out.len / 2));
    if (res == NULL) {
        free(out.v);
        return NULL;
    }
    for (size_t i = 0; i < out.len / 2; i++) {
        PyObject *t = Py_BuildValue("(nn)", out.v[2 * i], out.v[2 * i + 1]);
        if (t == NULL) {
            free(out.v);
            Py_DECREF(res);
            return NULL;
        }
        PyList_SET_ITEM(res, (Py_ssize_t)i, t);
    }
    free(out.v);
    return res;
}

/* ------------------------------------------------------------------------------- IPv4 */

/* `_OCT` = 25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9]: a canonical decimal 0-255. */
static inline int octet_ok(const uint8_t *b, Py_ssize_t len) {
    if (len == 1) return 1;
    if (len == 2) return b[0] != '0';
    if (len != 3) return 0;
    if (b[0] == '1') return 1;
    if (b[0] != '2') return 0;
    if (b[1] < '5') return 1;
    return b[1] == '5' && b[2] <= '5';
}

/* Match `_IPV4_RE` at p (b[p] is a digit whose lookbehind holds): (?:OCT\.){3}OCT followed
 * by (?![0-9A-Za-z]|\.[0-9]). Every octet is a whole digit run (a shorter octet would be
 * followed by a digit, which neither `\.` nor the lookahead accepts), so there is no
 * backtracking to emulate. Returns the end, or -1. */
static Py_ssize_t ipv4_at(const uint8_t *b, Py_ssize_t n, Py_ssize_t p) {
    Py_ssize_t q = p;
    for (int k = 0; k < 4; k++) {
        Py_ssize_t r = run_end(b, n, q);
        if (r == q || !octet_ok(b + q, r - q)) return -1;
        if (k < 3) {
            if (r >= n || b[r] != '.') return -1;
            q = r + 1;
        } else {
            q = r;
        }
    }
    if (q < n && (is_alnum(b[q]) || (b[q] == '.' && q + 1 < n && is_digit(b[q + 1]))))
        return -1;
    return q;
}

static void scan_ipv4(const uint8_t *b, Py_ssize_t n, vec_t *out) {
    Py_ssize_t p = 0;
    while (p < n) {
        const uint8_t *dot = memchr(b + p, '.', (size_t)(n - p));
        if (dot == NULL) break;
        Py_ssize_t d = dot - b;
        /* a match holds a dot within its first 4 characters: start at the digit run
         * before this dot (at most 3 digits back, never before p) */
        Py_ssize_t s = d;
        while (s > p && d - s < 3 && is_digit(b[s - 1])) s--;
        Py_ssize_t e = -1;
        if (s < d && (s == 0 || !(is_alnum(b[s - 1]) || b[s - 1] == '.')))
            e = ipv4_at(b, n, s);
        if (e >= 0) {
            vec_push2(out, s, e);
            p = e;
        } else {
            p = d + 1;
        }
    }
}

static PyObject *pairs_to_list(vec_t *out) {
    if (out->failed) {
        free(out->v);
        return PyErr_NoMemory();
    }
    PyObject *res = PyList_New((Py_ssize_t)(out->len / 2));
    if (res == NULL) {
        free(out->v);
        return NULL;
    }
    for (size_t i = 0; i < out->len / 2; i++) {
        PyObject *t = Py_BuildValue("(nn)", out->v[2 * i], out->v[2 * i + 1]);
        if (t == NULL) {
            free(out->v);
            Py_DECREF(res);
            return NULL;
        }
        PyList_SET_ITEM(res, (Py_ssize_t)i, t);
    }
    free(out->v);
    return res;
}

static PyObject *fs_ipv4_matches(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "y*", &view)) return NULL;
    vec_t out = {NULL, 0, 0, 0};
    Py_BEGIN_ALLOW_THREADS
    scan_ipv4((const uint8_t *)view.buf, view.len, &out);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return pairs_to_list(&out);
}

/* configure(prefixes, layouts): prefixes is a sequence of (digits: bytes, length mask: int)
 * applied in order (later entries override: pass shorter prefixes first); bit i of the
 * mask allows length 12 + i. layouts is a sequence of tuples of group sizes. */
static PyObject *fs_configure(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *prefixes, *lays;
    if (!PyArg_ParseTuple(args, "OO", &prefixes, &lays)) return NULL;
    PyObject *pseq = PySequence_Fast(prefixes, "prefixes must be a sequence");
    if (pseq == NULL) return NULL;
    PyObject *lseq = PySequence_Fast(lays, "layouts must be a sequence");
    if (lseq == NULL) {
        Py_DECREF(pseq);
        return NULL;
    }
    uint8_t *table = calloc(1000000, 1);
    uint8_t new_layouts[MAX_LAYOUTS][MAX_LAYOUT_GROUPS + 1];
    Py_ssize_t nl = PySequence_Fast_GET_SIZE(lseq);
    if (table == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(pseq); i++) {
        const char *digits;
        Py_ssize_t dlen;
        unsigned int mask;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(pseq, i), "y#I", &digits, &dlen, &mask))
            goto fail;
        if (dlen < 1 || dlen > 6 || mask > 0xFF) {
            PyErr_SetString(PyExc_ValueError, "prefix must be 1-6 digits, mask 8 bits");
            goto fail;
        }
        int v = 0;
        for (Py_ssize_t j = 0; j < dlen; j++) {
            if (!is_digit((uint8_t)digits[j])) {
                PyErr_SetString(PyExc_ValueError, "prefix must be digits");
                goto fail;
            }
            v = v * 10 + (digits[j] - '0');
        }
        int span = 1;
        for (Py_ssize_t j = dlen; j < 6; j++) span *= 10;
        for (int j = 0; j < span; j++) table[v * span + j] = (uint8_t)mask;
    }
    if (nl > MAX_LAYOUTS) {
        PyErr_SetString(PyExc_ValueError, "too many layouts");
        goto fail;
    }
    for (Py_ssize_t i = 0; i < nl; i++) {
        PyObject *t = PySequence_Fast(PySequence_Fast_GET_ITEM(lseq, i), "layout must be a tuple");
        if (t == NULL) goto fail;
        Py_ssize_t k = PySequence_Fast_GET_SIZE(t);
        if (k < 1 || k > MAX_LAYOUT_GROUPS) {
            Py_DECREF(t);
            PyErr_SetString(PyExc_ValueError, "layout must have 1-5 groups");
            goto fail;
        }
        new_layouts[i][0] = (uint8_t)k;
        for (Py_ssize_t j = 0; j < k; j++) {
            long g = PyLong_AsLong(PySequence_Fast_GET_ITEM(t, j));
            if (g < 1 || g > 19) {
                Py_DECREF(t);
                if (!PyErr_Occurred())
                    PyErr_SetString(PyExc_ValueError, "group size must be 1-19");
                goto fail;
            }
            new_layouts[i][j + 1] = (uint8_t)g;
        }
        Py_DECREF(t);
    }
    memcpy(layouts, new_layouts, sizeof(layouts));
    n_layouts = (int)nl;
    free(len_table);
    len_table = table;
    Py_DECREF(pseq);
    Py_DECREF(lseq);
    Py_RETURN_NONE;
fail:
    free(table);
    Py_DECREF(pseq);
    Py_DECREF(lseq);
    return NULL;
}

static PyMethodDef methods[] = {
    {"configure", fs_configure, METH_VARARGS,
     "configure(prefixes, layouts): load the IIN length table and the printed layouts"},
    {"pan_matches", (PyCFunction)(void (*)(void))fs_pan_matches, METH_VARARGS | METH_KEYWORDS,
     "pan_matches(buf, validate=True) -> [(start, end)] of _PAN_RE matches (with validate, "
     "only those that can hold a full PAN); releases the GIL"},
    {"ipv4_matches", fs_ipv4_matches, METH_VARARGS,
     "ipv4_matches(buf) -> [(start, end)] of _IPV4_RE matches; releases the GIL"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fastscan", NULL, -1, methods,
                                     NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__fastscan(void) { return PyModule_Create(&module); }
