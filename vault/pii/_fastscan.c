/* Native PAN candidate finder for vault.pii (optional accelerator).
 *
 * Emulates `rules.PAN_RE.finditer(buf)` over a whole buffer (the same non-overlapping,
 * leftmost matches, the same backtracking outcome for the contiguous, dash-grouped,
 * dot-grouped and space-grouped alternatives) and keeps only the matches that can yield a
 * PAN: the number, or for grouped numbers the whole chain in a printed layout or a free
 * grouping, or some printed layout of consecutive groups of a space-separated chain, is in a
 * brand's IIN range and length and passes Luhn. pan_hits() goes on to apply the handler's
 * context rules (`rules.handle_pan`), so findings are the same as the pure-Python path.
 *
 * The brand table (allowed lengths per 6-digit IIN prefix), the printed layouts (those of
 * dot-grouped numbers apart) and the bounds of free groupings come from vault/pii/cards.py
 * through configure(); nothing card-specific is hard-coded here. The regex's own bounds
 * (MAX_GROUP digits a group, MAX_CHAIN groups a space-separated chain, MAX_LAYOUT_GROUPS
 * groups a dash/dot chain) are module constants the scanner checks against rules.py.
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
#define MAX_LAYOUT_GROUPS 5 /* groups of a dash- or dot-grouped number (rules._MAX_GROUPS) */
#define MAX_GROUP 13        /* digits of one group of a grouped number (cards.MAX_GROUP) */
#define MAX_CHAIN 64        /* groups of a space-separated chain in one match (rules.MAX_CHAIN) */

static uint8_t *len_table = NULL; /* [1e6] bit i set: length 12+i allowed for this IIN */
typedef struct {
    int n;
    uint8_t v[MAX_LAYOUTS][MAX_LAYOUT_GROUPS + 1]; /* [0] = number of groups, then the sizes */
} layouts_t;
static layouts_t layouts = {0};        /* cards.LAYOUTS: space- and dash-grouped numbers */
static layouts_t dotted_layouts = {0}; /* cards.DOTTED_LAYOUTS: dot-grouped numbers */
typedef struct {
    int min_groups, max_groups, first_lo, first_hi, rest_lo, rest_hi;
} free_t;
static free_t free_spec = {0}; /* cards.free_layout's bounds (FREE_GROUPS, _FIRST, _REST) */

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

/* (?![0-9A-Za-z])(?![./-][0-9]) at position e: where a space-separated chain may end */
static inline int term_ok_s(const uint8_t *b, Py_ssize_t n, Py_ssize_t e) {
    if (e >= n) return 1;
    uint8_t c = b[e];
    if (is_alnum(c)) return 0;
    if ((c == '.' || c == '-' || c == '/') && e + 1 < n && is_digit(b[e + 1])) return 0;
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

static int layout_ok(const layouts_t *t, const Py_ssize_t *lens, int g0, int g1) {
    int k = g1 - g0;
    for (int i = 0; i < t->n; i++) {
        if (t->v[i][0] != k) continue;
        int j = 0;
        while (j < k && t->v[i][j + 1] == lens[g0 + j]) j++;
        if (j == k) return 1;
    }
    return 0;
}

/* cards.free_layout(lens[g0:g1]) */
static int free_ok(const Py_ssize_t *lens, int g0, int g1) {
    int k = g1 - g0;
    if (k < free_spec.min_groups || k > free_spec.max_groups) return 0;
    Py_ssize_t total = 0;
    for (int g = g0; g < g1; g++) {
        int lo = g == g0 ? free_spec.first_lo : free_spec.rest_lo;
        int hi = g == g0 ? free_spec.first_hi : free_spec.rest_hi;
        if (lens[g] < lo || lens[g] > hi) return 0;
        total += lens[g];
    }
    return total >= 12 && total <= 19;
}

static inline int date_sep(uint8_t c) { return c == '.' || c == '/' || c == '-'; }

/* rules._number_before(b, p): a plain number (not part of a word, date, version or dotted
 * number) ends at p, a space at p */
static int number_before(const uint8_t *b, Py_ssize_t p) {
    if (p < 1 || !is_digit(b[p - 1]) || b[p] != ' ') return 0;
    Py_ssize_t q = p - 1;
    while (q > 0 && is_digit(b[q - 1])) q--;
    if (q == 0) return 1;
    uint8_t c = b[q - 1];
    return !(is_alnum(c) || (date_sep(c) && q >= 2 && is_digit(b[q - 2])));
}

/* rules._number_after(b, p): a space at p, a plain number after it */
static int number_after(const uint8_t *b, Py_ssize_t n, Py_ssize_t p) {
    if (p + 1 >= n || b[p] != ' ' || !is_digit(b[p + 1])) return 0;
    Py_ssize_t q = run_end(b, n, p + 1);
    if (q == n) return 1;
    uint8_t c = b[q];
    return !(is_alnum(c) || (date_sep(c) && q + 1 < n && is_digit(b[q + 1])));
}

/* rules._alone(b, s, e): no plain number one space before or after b[s:e] */
static int alone(const uint8_t *b, Py_ssize_t n, Py_ssize_t s, Py_ssize_t e) {
    return !(s >= 2 && number_before(b, s - 1)) && !number_after(b, n, e);
}

typedef struct {
    Py_ssize_t *v;
    size_t len, cap;
    int failed;
} vec_t;

/* room for k more values (0), or -1 with `failed` set (then every later push is dropped) */
static int vec_reserve(vec_t *a, size_t k) {
    if (a->failed) return -1;
    if (a->len + k > a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 256;
        Py_ssize_t *v = cap > ((size_t)-1) / sizeof(Py_ssize_t) / 2
                            ? NULL
                            : realloc(a->v, cap * sizeof(Py_ssize_t));
        if (v == NULL) {
            a->failed = 1;
            return -1;
        }
        a->v = v;
        a->cap = cap;
    }
    return 0;
}

static void vec_push2(vec_t *a, Py_ssize_t x, Py_ssize_t y) {
    if (vec_reserve(a, 2) < 0) return;
    a->v[a->len++] = x;
    a->v[a->len++] = y;
}

typedef PyObject *(*pair_fn)(const uint8_t *b, Py_ssize_t x, Py_ssize_t y);

/* [make(b, x, y) for each pair (x, y) pushed to out] (MemoryError when a push failed); frees
 * out's values. Called with the GIL held, b still valid. */
static PyObject *pairs_to_list(const uint8_t *b, vec_t *out, pair_fn make) {
    PyObject *res = out->failed ? PyErr_NoMemory() : PyList_New((Py_ssize_t)(out->len / 2));
    for (size_t i = 0; res != NULL && i < out->len / 2; i++) {
        PyObject *t = make(b, out->v[2 * i], out->v[2 * i + 1]);
        if (t == NULL) Py_CLEAR(res);
        else PyList_SET_ITEM(res, (Py_ssize_t)i, t);
    }
    free(out->v);
    out->v = NULL;
    return res;
}

static PyObject *pair_tuple(const uint8_t *b, Py_ssize_t x, Py_ssize_t y) {
    (void)b;
    return Py_BuildValue("(nn)", x, y);
}

/* Try `PAN_RE` at p (b[p] is a digit and the lookbehinds hold). Returns the match end, or
 * -1. Fills the groups of the match (for the validity check). */
static Py_ssize_t match_at(const uint8_t *b, Py_ssize_t n, Py_ssize_t p, Py_ssize_t *starts,
                           Py_ssize_t *lens, int *ngroups, char *sep) {
    Py_ssize_t r = run_end(b, n, p), L = r - p;
    starts[0] = p;
    lens[0] = L;
    *ngroups = 1;
    *sep = 0;
    if (L >= 12 && L <= 19 && term_ok(b, n, r)) return r; /* (?P<c>...) */
    /* (?=[0-9]{1,13}[-.\x20][0-9]) */
    if (L > MAX_GROUP || r + 1 >= n || !is_digit(b[r + 1])) return -1;
    if (b[r] == '-' || b[r] == '.') {
        /* (?P<d>G(?:-G){1,4}), (?P<dot>G(?:\.G){1,4}), G = [0-9]{1,13}: the same separator
         * throughout; a group of over 13 digits, or a 6th group, leaves `[.-][0-9]` after the
         * last group taken, which the lookahead rejects as it does every shorter backtrack */
        uint8_t c = b[r];
        Py_ssize_t e = r;
        int k = 0;
        while (k < MAX_LAYOUT_GROUPS - 1 && e + 1 < n && b[e] == c && is_digit(b[e + 1])) {
            Py_ssize_t q = run_end(b, n, e + 1);
            if (q - (e + 1) > MAX_GROUP) break;
            starts[k + 1] = e + 1;
            lens[k + 1] = q - (e + 1);
            k++;
            e = q;
        }
        if (k == 0 || !term_ok(b, n, e)) return -1;
        *ngroups = k + 1;
        *sep = (char)c;
        return e;
    }
    if (b[r] == ' ') { /* (?P<s>G(?:\x20G){1,63}) then (?![0-9A-Za-z])(?![./-][0-9]) */
        Py_ssize_t e = r, prev = r;
        int k = 0;
        while (k < MAX_CHAIN - 1 && e + 1 < n && b[e] == ' ' && is_digit(b[e + 1])) {
            Py_ssize_t q = run_end(b, n, e + 1);
            if (q - (e + 1) > MAX_GROUP) break;
            starts[k + 1] = e + 1;
            lens[k + 1] = q - (e + 1);
            k++;
            prev = e;
            e = q;
        }
        if (k == 0) return -1;
        if (!term_ok_s(b, n, e)) {
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

/* A superset of "handle_pan yields a hit for this match" (no field context). */
static int may_hold_pan(const uint8_t *b, const Py_ssize_t *starts, const Py_ssize_t *lens,
                        int ng, char sep) {
    if (sep == 0) return valid_groups(b, starts, lens, 0, 1);
    if (sep == '-' || sep == '.') {
        if (!layout_ok(sep == '.' ? &dotted_layouts : &layouts, lens, 0, ng) &&
            (sep == '.' || !free_ok(lens, 0, ng)))
            return 0;
        return valid_groups(b, starts, lens, 0, ng);
    }
    if (free_ok(lens, 0, ng) && valid_groups(b, starts, lens, 0, ng)) return 1;
    if (ng > 2 && lens[ng - 1] <= 3 && free_ok(lens, 0, ng - 1) &&
        valid_groups(b, starts, lens, 0, ng - 1))
        return 1;
    for (int i = 0; i < ng; i++) {
        if (lens[i] >= 12 && valid_groups(b, starts, lens, i, i + 1)) return 1;
        Py_ssize_t total = lens[i];
        for (int size = 2; size <= MAX_LAYOUT_GROUPS && i + size <= ng; size++) {
            total += lens[i + size - 1];
            if (total < 12) continue;
            if (total > 19) break;
            if (layout_ok(&layouts, lens, i, i + size) &&
                valid_groups(b, starts, lens, i, i + size))
                return 1;
        }
    }
    return 0;
}

/* The next `PAN_RE` match at or after *p: its start (the groups filled, *end its end; *p
 * moves past it), or -1 when there is none. */
static Py_ssize_t next_match(const uint8_t *b, Py_ssize_t n, Py_ssize_t *p, Py_ssize_t *end,
                             Py_ssize_t *starts, Py_ssize_t *lens, int *ng, char *sep) {
    while (*p < n) {
        Py_ssize_t s = *p;
        while (s < n && !is_digit(b[s])) s++; /* next digit that starts a run */
        if (s >= n) break;
        Py_ssize_t e = lookbehind_ok(b, s) ? match_at(b, n, s, starts, lens, ng, sep) : -1;
        if (e < 0) {
            *p = run_end(b, n, s);
            continue;
        }
        *p = *end = e;
        return s;
    }
    *p = n;
    return -1;
}

static void scan(const uint8_t *b, Py_ssize_t n, int validate, vec_t *out) {
    Py_ssize_t starts[MAX_CHAIN], lens[MAX_CHAIN], p = 0, s, e;
    int ng;
    char sep;
    while ((s = next_match(b, n, &p, &e, starts, lens, &ng, &sep)) >= 0)
        if (!validate || may_hold_pan(b, starts, lens, ng, sep)) vec_push2(out, s, e);
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
    return pairs_to_list(NULL, &out, pair_tuple);
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

static PyObject *fs_ipv4_matches(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "y*", &view)) return NULL;
    vec_t out = {NULL, 0, 0, 0};
    Py_BEGIN_ALLOW_THREADS
    scan_ipv4((const uint8_t *)view.buf, view.len, &out);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return pairs_to_list(NULL, &out, pair_tuple);
}

/* ------------------------------------------------------------------------------- hits */

/* Ready-made findings, so that Python builds no object per match. pan_hits() is
 * `handle_pan(PAN_RE.match(buf, s), ctx)` for every match of `PAN_RE` (rules.py): the
 * brand/length/Luhn check (valid_groups), the printed layouts and free groupings of grouped
 * numbers, a number after `+` (a phone number) dropped, and the field context of the 40
 * bytes before the number (`rules.neg_label`, `rules.card_words`), whose label words come
 * from rules.py through configure_labels(). ipv4_hits() is `rules._handle_ipv4` for every
 * ipv4_matches() match. Both return Hit tuples (kind, detector, start, end, masked, value,
 * confidence), in start order. */

#define MAX_LABELS 64
#define MAX_LABEL_LEN 24
#define CONTEXT 40

typedef struct {
    int n;
    uint8_t len[MAX_LABELS];
    uint8_t text[MAX_LABELS][MAX_LABEL_LEN]; /* lower case */
} labels_t;

static labels_t neg_words = {0}, neg_suffixes = {0};
static int labels_set = 0;
static PyObject *S_EMPTY, *S_ONE, *S_PAN, *S_PAN_DET, *S_IP, *S_IP4_DET, *F_CONF[4];

static inline uint8_t lower(uint8_t c) { return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c; }
static inline int is_alpha(uint8_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

/* b[i - len + 1 .. i] equals the (lower-case) label, ASCII case-insensitively, within [lo, ..) */
static inline int ends_with(const uint8_t *b, Py_ssize_t lo, Py_ssize_t i, const uint8_t *t,
                            int len) {
    if (i - len + 1 < lo) return 0;
    for (int k = 0; k < len; k++)
        if (lower(b[i - k]) != t[len - 1 - k]) return 0;
    return 1;
}

/* a non-card field name ends at i, preceded by the window start or a non-letter */
static int neg_word_at(const uint8_t *b, Py_ssize_t lo, Py_ssize_t i) {
    for (int w = 0; w < neg_words.n; w++) {
        int len = neg_words.len[w];
        if (ends_with(b, lo, i, neg_words.text[w], len)) {
            Py_ssize_t k = i - len;
            if (k < lo || !is_alpha(b[k])) return 1;
        }
    }
    return 0;
}

static inline int is_blank(uint8_t c) { return c == ' ' || c == '\t'; }
static inline int is_quote(uint8_t c) { return c == '"' || c == '\''; }

/* rules.neg_label(b[lo:p]): the window ends with `<word>[[_ -]?<suffix>]<sep>` where sep is
 * ["']?[ \t]{0,3}[:=][ \t]{0,3}["']? or `>`, optionally followed by one final newline. The
 * character classes of the separator are disjoint, so reading it backwards greedily is what
 * the regex's backtracking would find. */
static int neg_label_c(const uint8_t *b, Py_ssize_t lo, Py_ssize_t p) {
    Py_ssize_t i = p - 1;
    if (i >= lo && b[i] == '\n') i--;
    if (i < lo) return 0;
    if (b[i] == '>') {
        i--;
    } else {
        if (is_quote(b[i])) i--;
        for (int k = 0; k < 3 && i >= lo && is_blank(b[i]); k++) i--;
        if (i < lo || (b[i] != ':' && b[i] != '=')) return 0;
        i--;
        for (int k = 0; k < 3 && i >= lo && is_blank(b[i]); k++) i--;
        if (i >= lo && is_quote(b[i])) i--;
    }
    if (neg_word_at(b, lo, i)) return 1;
    for (int s = 0; s < neg_suffixes.n; s++) {
        int len = neg_suffixes.len[s];
        if (!ends_with(b, lo, i, neg_suffixes.text[s], len)) continue;
        Py_ssize_t j = i - len;
        if (neg_word_at(b, lo, j)) return 1;
        if (j >= lo && (b[j] == '_' || b[j] == ' ' || b[j] == '-') && neg_word_at(b, lo, j - 1))
            return 1;
    }
    return 0;
}

static inline int word_byte(uint8_t c) { return is_alnum(c) || c == '_'; }

/* rules.card_words(b[lo:p]): card|pan\b|visa|master|amex|kortti|cc[_-]?num|acct[_-]?num */
static int card_words_c(const uint8_t *b, Py_ssize_t lo, Py_ssize_t p) {
    static const char *const words[] = {"card", "visa", "master", "amex", "kortti", "ccnum",
                                        "cc_num", "cc-num", "acctnum", "acct_num", "acct-num"};
    for (Py_ssize_t k = lo; k < p; k++) {
        uint8_t c = lower(b[k]);
        if (c == 'p' && k + 3 <= p && lower(b[k + 1]) == 'a' && lower(b[k + 2]) == 'n' &&
            (k + 3 == p || !word_byte(b[k + 3])))
            return 1;
        for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
            const char *t = words[w];
            if ((uint8_t)t[0] != c) continue;
            Py_ssize_t j = 1;
            while (t[j] && k + j < p && lower(b[k + j]) == (uint8_t)t[j]) j++;
            if (!t[j]) return 1;
        }
    }
    return 0;
}

/* confidence code (index into F_CONF: 0.9, 0.95, 0.99), or -1: not reported (rules._pan_conf:
 * after "+", a phone number; with `veto`, the value of a non-card field) */
static int pan_conf(const uint8_t *b, Py_ssize_t start, int grouped, int veto) {
    if (start > 0 && b[start - 1] == '+') return -1;
    Py_ssize_t lo = start > CONTEXT ? start - CONTEXT : 0;
    if (veto && neg_label_c(b, lo, start)) return -1;
    if (card_words_c(b, lo, start)) return 2;
    return grouped ? 1 : 0;
}

static void push_hit(vec_t *out, Py_ssize_t s, Py_ssize_t e, int code) {
    /* (start, end << 2 | code): ends fit easily, buffers are far below 2^61 bytes */
    vec_push2(out, s, (e << 2) | code);
}

/* rules.handle_pan for every match (see there) */
static void scan_pan_hits(const uint8_t *b, Py_ssize_t n, vec_t *out) {
    Py_ssize_t starts[MAX_CHAIN], lens[MAX_CHAIN], q = 0, p, e;
    int ng, code;
    char sep;
    while ((p = next_match(b, n, &q, &e, starts, lens, &ng, &sep)) >= 0) {
        if (sep == 0) {
            if (valid_groups(b, starts, lens, 0, 1) && (code = pan_conf(b, p, 0, 1)) >= 0)
                push_hit(out, p, e, code);
            continue;
        }
        Py_ssize_t total = 0; /* no layout or window of fewer than 12 digits (an IP, a date) */
        for (int g = 0; g < ng; g++) total += lens[g];
        if (total < 12) continue;
        if (sep == '-' || sep == '.') { /* the whole chain, in a layout or a free grouping */
            int free = !layout_ok(sep == '.' ? &dotted_layouts : &layouts, lens, 0, ng);
            if (free && (sep == '.' || !free_ok(lens, 0, ng))) continue;
            if (valid_groups(b, starts, lens, 0, ng) && (code = pan_conf(b, p, 1, free)) >= 0)
                push_hit(out, p, e, code);
            continue;
        }
        int runs = 1; /* a run of card length amid the chain is a number of its own */
        if (alone(b, n, p, e)) {
            if (layout_ok(&layouts, lens, 0, ng)) { /* one number printed as a card */
                for (int k = ng; k >= ng - 1; k--) { /* or it and a short last group */
                    if (k < ng && !(k >= 2 && lens[ng - 1] <= 3)) break;
                    if (layout_ok(&layouts, lens, 0, k) && valid_groups(b, starts, lens, 0, k) &&
                        (code = pan_conf(b, p, 1, 0)) >= 0) {
                        push_hit(out, p, starts[k - 1] + lens[k - 1], code);
                        break;
                    }
                }
                continue;
            }
            if (free_ok(lens, 0, ng)) { /* so is a free grouping: this number or none */
                int done = 0;
                for (int k = ng; k >= ng - 1 && !done; k--) {
                    int lay = layout_ok(&layouts, lens, 0, k);
                    if (k < ng && !(lens[ng - 1] <= 3 && (lay || free_ok(lens, 0, k)))) break;
                    if (valid_groups(b, starts, lens, 0, k)) {
                        if ((code = pan_conf(b, p, 1, !lay)) >= 0)
                            push_hit(out, p, starts[k - 1] + lens[k - 1], code);
                        done = 1;
                    }
                }
                if (done) continue;
                runs = 0;
            }
        }
        int i = 0; /* else a layout from each group on, the longest first */
        while (i < ng) {
            int found = 0;
            int top = ng - i < MAX_LAYOUT_GROUPS ? ng - i : MAX_LAYOUT_GROUPS;
            for (int size = top; size >= 2; size--) {
                if (!layout_ok(&layouts, lens, i, i + size) ||
                    !valid_groups(b, starts, lens, i, i + size))
                    continue;
                Py_ssize_t hs = starts[i], he = starts[i + size - 1] + lens[i + size - 1];
                if ((code = pan_conf(b, hs, 1, 0)) < 0) continue;
                push_hit(out, hs, he, code);
                found = size;
                break;
            }
            if (!found && runs && lens[i] >= 12 && valid_groups(b, starts, lens, i, i + 1) &&
                (code = pan_conf(b, starts[i], 0, 1)) >= 0)
                push_hit(out, starts[i], starts[i] + lens[i], code);
            i += found ? found : 1;
        }
    }
}

/* A new tuple of `n` items whose references it steals; NULL (and every item released) when
 * an item is NULL (its constructor failed) or the tuple cannot be made. Faster than
 * Py_BuildValue, which parses its format on every call (millions of hits and rows). */
static PyObject *tuple_steal(Py_ssize_t n, PyObject **items) {
    PyObject *t = NULL;
    for (Py_ssize_t i = 0; i < n; i++)
        if (items[i] == NULL) goto fail;
    if ((t = PyTuple_New(n)) == NULL) goto fail;
    for (Py_ssize_t i = 0; i < n; i++) PyTuple_SET_ITEM(t, i, items[i]);
    return t;
fail:
    for (Py_ssize_t i = 0; i < n; i++) Py_XDECREF(items[i]);
    return NULL;
}

/* A hit (kind, detector, start, end, masked, norm, confidence); steals masked and norm. */
static PyObject *hit_tuple(PyObject *kind, PyObject *det, Py_ssize_t s, Py_ssize_t e,
                           PyObject *masked, PyObject *norm, PyObject *conf) {
    PyObject *items[7] = {Py_NewRef(kind), Py_NewRef(det), PyLong_FromSsize_t(s),
                          PyLong_FromSsize_t(e), masked, norm, Py_NewRef(conf)};
    return tuple_steal(7, items);
}

static PyObject *pan_hit_tuple(const uint8_t *b, Py_ssize_t s, Py_ssize_t e, int code) {
    char digits[20], masked[20];
    int nd = 0;
    for (Py_ssize_t i = s; i < e && nd < 19; i++)
        if (is_digit(b[i])) digits[nd++] = (char)b[i];
    for (int i = 0; i < nd; i++) masked[i] = (i < 6 || i >= nd - 4) ? digits[i] : '*';
    return hit_tuple(S_PAN, S_PAN_DET, s, e, PyUnicode_DecodeASCII(masked, nd, NULL),
                     PyUnicode_DecodeASCII(digits, nd, NULL), F_CONF[code]);
}

static PyObject *ip_hit_tuple(const uint8_t *b, Py_ssize_t s, Py_ssize_t e) {
    char masked[24];
    Py_ssize_t k = s;
    int dots = 0;
    while (k < e && dots < 2) { /* a.b.c.d -> "a.b.*.*" (rules.mask_ip) */
        if (b[k] == '.') dots++;
        if (dots < 2) k++;
    }
    Py_ssize_t head = k - s;
    if (head > 15) head = 15;
    memcpy(masked, b + s, (size_t)head);
    memcpy(masked + head, ".*.*", 4);
    return hit_tuple(S_IP, S_IP4_DET, s, e, PyUnicode_DecodeASCII(masked, head + 4, NULL),
                     PyUnicode_DecodeASCII((const char *)b + s, e - s, NULL), F_CONF[3]);
}

static PyObject *pan_hit_of_pair(const uint8_t *b, Py_ssize_t s, Py_ssize_t packed) {
    return pan_hit_tuple(b, s, packed >> 2, (int)(packed & 3)); /* see push_hit */
}

static PyObject *fs_pan_hits(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "y*", &view)) return NULL;
    if (len_table == NULL || !labels_set) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_RuntimeError,
                        "_fastscan.configure() and configure_labels() were not called");
        return NULL;
    }
    const uint8_t *b = (const uint8_t *)view.buf;
    vec_t out = {NULL, 0, 0, 0};
    Py_BEGIN_ALLOW_THREADS
    scan_pan_hits(b, view.len, &out);
    Py_END_ALLOW_THREADS
    PyObject *res = pairs_to_list(b, &out, pan_hit_of_pair);
    PyBuffer_Release(&view);
    return res;
}

/* `rules.is_netmask`: a dotted quad whose bits are ones then zeros, first octet 255
 * (255.255.255.0, 255.255.0.0...): a subnet mask, not an address; 255.255.255.255 stays
 * an address (the broadcast). */
static int is_netmask(const uint8_t *b, Py_ssize_t s, Py_ssize_t e) {
    uint32_t v = 0, octet = 0;
    for (Py_ssize_t i = s; i < e; i++) {
        if (b[i] == '.') {
            v = (v << 8) | octet;
            octet = 0;
        } else {
            octet = octet * 10 + (uint32_t)(b[i] - '0');
        }
    }
    v = (v << 8) | octet;
    uint32_t inv = ~v;
    return (v >> 24) == 255 && inv != 0 && (inv & (inv + 1)) == 0;
}

static PyObject *fs_ipv4_hits(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "y*", &view)) return NULL;
    const uint8_t *b = (const uint8_t *)view.buf;
    vec_t out = {NULL, 0, 0, 0};
    Py_BEGIN_ALLOW_THREADS
    scan_ipv4(b, view.len, &out);
    size_t kept = 0; /* the handler's netmask rule: drop the masks' pairs */
    for (size_t i = 0; i + 1 < out.len; i += 2) {
        if (is_netmask(b, out.v[i], out.v[i + 1])) continue;
        out.v[kept] = out.v[i];
        out.v[kept + 1] = out.v[i + 1];
        kept += 2;
    }
    if (!out.failed) out.len = kept;
    Py_END_ALLOW_THREADS
    PyObject *res = pairs_to_list(b, &out, ip_hit_tuple);
    PyBuffer_Release(&view);
    return res;
}

/* --------------------------------------------------------------------- resolving hits */

/* scanner._drop_overlaps(hits): sorted by (start, -end) (stable), where hits overlap, keep
 * the one of higher rank (kind priority from `prio`, then confidence, then length). The
 * same sort and sweep as the Python reference, on arrays. Returns a new list. */
typedef struct {
    Py_ssize_t s, e, i; /* i: position in the input, for a stable sort */
    long prio;
    double conf;
} hinfo_t;

static int by_start_end(const void *x, const void *y) {
    const hinfo_t *a = x, *b = y;
    if (a->s != b->s) return a->s < b->s ? -1 : 1;
    if (a->e != b->e) return a->e > b->e ? -1 : 1;
    return a->i < b->i ? -1 : (a->i > b->i);
}

static inline int rank_ge(const hinfo_t *a, const hinfo_t *b) { /* rank(a) >= rank(b) */
    if (a->prio != b->prio) return a->prio > b->prio;
    if (a->conf != b->conf) return a->conf > b->conf;
    return (a->e - a->s) >= (b->e - b->s);
}

static int hit_info(PyObject *h, PyObject *prio, hinfo_t *out) {
    if (!PyTuple_Check(h) || PyTuple_GET_SIZE(h) != 7) {
        PyErr_SetString(PyExc_TypeError, "a hit is a 7-tuple");
        return -1;
    }
    PyObject *p = PyDict_GetItemWithError(prio, PyTuple_GET_ITEM(h, 0));
    if (p == NULL) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_KeyError, "hit kind without a priority");
        return -1;
    }
    out->prio = PyLong_AsLong(p);
    out->s = PyLong_AsSsize_t(PyTuple_GET_ITEM(h, 2));
    out->e = PyLong_AsSsize_t(PyTuple_GET_ITEM(h, 3));
    out->conf = PyFloat_AsDouble(PyTuple_GET_ITEM(h, 6));
    return PyErr_Occurred() ? -1 : 0;
}

static PyObject *fs_drop_overlaps(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *hits, *prio;
    if (!PyArg_ParseTuple(args, "O!O!", &PyList_Type, &hits, &PyDict_Type, &prio)) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(hits);
    hinfo_t *info = PyMem_Malloc((size_t)(n ? n : 1) * sizeof(hinfo_t));
    Py_ssize_t *kept = PyMem_Malloc((size_t)(n ? n : 1) * sizeof(Py_ssize_t)); /* hit index or -1 */
    Py_ssize_t *active = PyMem_Malloc((size_t)(n ? n : 1) * sizeof(Py_ssize_t)); /* kept slots */
    PyObject *res = NULL;
    if (!info || !kept || !active) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (hit_info(PyList_GET_ITEM(hits, i), prio, &info[i]) < 0) goto done;
        info[i].i = i;
    }
    qsort(info, (size_t)n, sizeof(hinfo_t), by_start_end);
    Py_ssize_t nk = 0, na = 0, reach = -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        const hinfo_t *h = &info[i];
        if (h->s >= reach) { /* overlaps nothing kept: the common case */
            active[0] = nk;
            na = 1;
            kept[nk++] = i;
            reach = h->e;
            continue;
        }
        Py_ssize_t m = 0;
        for (Py_ssize_t a = 0; a < na; a++) {
            Py_ssize_t k = kept[active[a]];
            if (k >= 0 && info[k].e > h->s) active[m++] = active[a];
        }
        na = m;
        if (na) {
            int loses = 0;
            for (Py_ssize_t a = 0; a < na; a++)
                if (rank_ge(&info[kept[active[a]]], h)) {
                    loses = 1;
                    break;
                }
            if (!loses) { /* h beats every active hit it overlaps */
                for (Py_ssize_t a = 0; a < na; a++) kept[active[a]] = -1;
                na = 0;
                active[na++] = nk;
                kept[nk++] = i;
            }
        } else {
            active[na++] = nk;
            kept[nk++] = i;
        }
        reach = -1;
        for (Py_ssize_t a = 0; a < na; a++) {
            Py_ssize_t k = kept[active[a]];
            if (k >= 0 && info[k].e > reach) reach = info[k].e;
        }
    }
    res = PyList_New(0);
    for (Py_ssize_t j = 0; res != NULL && j < nk; j++)
        if (kept[j] >= 0 && PyList_Append(res, PyList_GET_ITEM(hits, info[kept[j]].i)) < 0)
            Py_CLEAR(res);
done:
    PyMem_Free(info);
    PyMem_Free(kept);
    PyMem_Free(active);
    return res;
}

/* Walk a list of hits sorted by start: 1 when hit `h` starts in [lo, hi) (then *start is its
 * start and *line its 1-based line, newlines counted in buf from *pos, which moves there), 0
 * when it starts elsewhere, -1 with an exception when it is not a 7-tuple or is out of order or
 * range. The loop of rows, json_hits and distinct_hits. */
static int walk_hit(PyObject *h, const uint8_t *buf, Py_ssize_t n, Py_ssize_t lo, Py_ssize_t hi,
                    Py_ssize_t *pos, Py_ssize_t *line, Py_ssize_t *start) {
    if (!PyTuple_Check(h) || PyTuple_GET_SIZE(h) != 7) {
        PyErr_SetString(PyExc_TypeError, "a hit is a 7-tuple");
        return -1;
    }
    Py_ssize_t st = PyLong_AsSsize_t(PyTuple_GET_ITEM(h, 2));
    if (PyErr_Occurred() || st < *pos || st > n) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "hits out of order or range");
        return -1;
    }
    if (st < lo || st >= hi) return 0;
    while (*pos < st) {
        const uint8_t *nl = memchr(buf + *pos, '\n', (size_t)(st - *pos));
        if (nl == NULL) break;
        (*line)++;
        *pos = (nl - buf) + 1;
    }
    *pos = st;
    *start = st;
    return 1;
}

/* scanner.Scanner._rows's loop: hits (sorted by start) starting in [lo, hi) become rows
 * (kind, detector, base + start, base + end, line, masked, confidence, value hash), the line
 * 1-based from base_line; the last field is the hash from `cache` (value -> hash) or
 * value_hash(value), the normalised value itself when value_hash is True, "" when it is None. */
static PyObject *fs_rows(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view;
    PyObject *hits, *cache, *value_hash;
    Py_ssize_t base, base_line, lo, hi;
    if (!PyArg_ParseTuple(args, "y*O!nnnnO!O", &view, &PyList_Type, &hits, &base, &base_line,
                          &lo, &hi, &PyDict_Type, &cache, &value_hash))
        return NULL;
    const uint8_t *b = (const uint8_t *)view.buf;
    Py_ssize_t n = view.len, pos = 0, line = base_line + 1;
    PyObject *res = PyList_New(0);
    for (Py_ssize_t i = 0; res != NULL && i < PyList_GET_SIZE(hits); i++) {
        PyObject *h = PyList_GET_ITEM(hits, i);
        Py_ssize_t s = 0, e;
        int in = walk_hit(h, b, n, lo, hi, &pos, &line, &s);
        if (in == 0) continue;
        if (in < 0 || ((e = PyLong_AsSsize_t(PyTuple_GET_ITEM(h, 3))) == -1 && PyErr_Occurred())) {
            Py_CLEAR(res);
            break;
        }
        PyObject *norm = PyTuple_GET_ITEM(h, 5);
        PyObject *vh = value_hash == Py_None   ? S_EMPTY
                       : value_hash == Py_True ? norm
                                               : PyDict_GetItemWithError(cache, norm);
        if (vh != NULL) {
            Py_INCREF(vh);
        } else if (!PyErr_Occurred()) {
            vh = PyObject_CallOneArg(value_hash, norm);
        }
        if (vh == NULL) {
            Py_CLEAR(res);
            break;
        }
        PyObject *items[8] = {Py_NewRef(PyTuple_GET_ITEM(h, 0)), Py_NewRef(PyTuple_GET_ITEM(h, 1)),
                              PyLong_FromSsize_t(base + s), PyLong_FromSsize_t(base + e),
                              PyLong_FromSsize_t(line), Py_NewRef(PyTuple_GET_ITEM(h, 4)),
                              Py_NewRef(PyTuple_GET_ITEM(h, 6)), vh};
        PyObject *row = tuple_steal(8, items);
        if (row == NULL || PyList_Append(res, row) < 0) Py_CLEAR(res);
        Py_XDECREF(row);
    }
    PyBuffer_Release(&view);
    return res;
}

/* ------------------------------------------------------------------- digit prefilters */

/* digit_prefilter(buf) -> 6 lists: the end offsets of every match (as Hyperscan reports
 * them: each offset at which some match ends) of these prefilter patterns of rules.py, in
 * this order (scanner.NATIVE_PREFILTERS names them; Hyperscan is slow on digit-dense text
 * for exactly these):
 *   0  [0-9]{12,19}=[0-9=]{2}                          track 2
 *   1  [A-Z]{2}[0-9]{2} ?[0-9A-Z]{4} ?[0-9A-Z]{4}       IBAN
 *   2  [0-9]{3}[-.][0-9]{4}                             phone
 *   3  0[1-9][0-9]{0,3}[- ][0-9]{2,4}[- ][0-9]{3}       phone
 *   4  [0-9]{3}-[0-9]{2}-[0-9]{4}                       US SSN
 *   5  [0-9]{6}[-+A-FU-Y][0-9]{3}                       Finnish henkilötunnus
 * Patterns 2-5 end in a digit group that follows a non-digit, so each match ends a fixed
 * number of digits into a digit run: one check per run. Pattern 1 starts two letters before
 * a digit run; pattern 0 is found from its '='. */
#define N_PREFILTERS 6

static inline int all_digits(const uint8_t *b, Py_ssize_t from, Py_ssize_t to) {
    for (Py_ssize_t i = from; i < to; i++)
        if (!is_digit(b[i])) return 0;
    return 1;
}

static inline int is_upper(uint8_t c) { return c >= 'A' && c <= 'Z'; }
static inline int is_upper_digit(uint8_t c) { return is_upper(c) || is_digit(c); }

static int four_upper_digits(const uint8_t *b, Py_ssize_t n, Py_ssize_t p) {
    if (p + 4 > n) return 0;
    for (int k = 0; k < 4; k++)
        if (!is_upper_digit(b[p + k])) return 0;
    return 1;
}

static inline int hetu_sep(uint8_t c) {
    return c == '-' || c == '+' || (c >= 'A' && c <= 'F') || (c >= 'U' && c <= 'Y');
}

static void vec_push1(vec_t *a, Py_ssize_t x) {
    if (vec_reserve(a, 1) < 0) return;
    a->v[a->len++] = x;
}

static void scan_prefilters(const uint8_t *b, Py_ssize_t n, vec_t *out) {
    Py_ssize_t i = 0;
    while (i < n) {
        while (i < n && !is_digit(b[i])) i++;
        if (i >= n) break;
        Py_ssize_t s = i, r = run_end(b, n, i), len = r - s;
        i = r;
        /* 1: IBAN, anchored two capitals before the run */
        if (len >= 2 && s >= 2 && is_upper(b[s - 1]) && is_upper(b[s - 2])) {
            Py_ssize_t last = -1;
            for (int sp1 = 0; sp1 < 2; sp1++) {
                Py_ssize_t p1 = s + 2 + sp1;
                if (sp1 && (s + 2 >= n || b[s + 2] != ' ')) continue;
                if (!four_upper_digits(b, n, p1)) continue;
                for (int sp2 = 0; sp2 < 2; sp2++) {
                    Py_ssize_t p2 = p1 + 4 + sp2;
                    if (sp2 && (p1 + 4 >= n || b[p1 + 4] != ' ')) continue;
                    if (four_upper_digits(b, n, p2) && p2 + 4 != last) {
                        vec_push1(&out[1], p2 + 4);
                        last = p2 + 4;
                    }
                }
            }
        }
        if (s < 1) continue;
        uint8_t sep = b[s - 1];
        /* 2: ddd[-.]dddd */
        if (len >= 4 && (sep == '-' || sep == '.') && s >= 4 && all_digits(b, s - 4, s - 1))
            vec_push1(&out[2], s + 4);
        /* 4: ddd-dd-dddd */
        if (len >= 4 && sep == '-' && s >= 7 && is_digit(b[s - 2]) && is_digit(b[s - 3]) &&
            b[s - 4] == '-' && all_digits(b, s - 7, s - 4))
            vec_push1(&out[4], s + 4);
        /* 5: dddddd[-+A-FU-Y]ddd */
        if (len >= 3 && hetu_sep(sep) && s >= 7 && all_digits(b, s - 7, s - 1))
            vec_push1(&out[5], s + 3);
        /* 3: 0[1-9]d{0,3}[- ]d{2,4}[- ]ddd */
        if (len >= 3 && (sep == '-' || sep == ' ') && s >= 2) {
            Py_ssize_t k = 0; /* the middle group: the whole digit run before sep */
            while (k < 5 && s - 2 - k >= 0 && is_digit(b[s - 2 - k])) k++;
            Py_ssize_t q = s - 2 - k; /* the first separator */
            if (k >= 2 && k <= 4 && q >= 0 && (b[q] == '-' || b[q] == ' ')) {
                for (Py_ssize_t j = 0; j <= 3; j++) {
                    Py_ssize_t p = q - 2 - j;
                    if (p < 0) break;
                    if (b[p] == '0' && b[p + 1] >= '1' && b[p + 1] <= '9' &&
                        all_digits(b, p + 2, q)) {
                        vec_push1(&out[3], s + 3);
                        break;
                    }
                }
            }
        }
    }
    /* 0: at least 12 digits, '=', then two of [0-9=] */
    Py_ssize_t p = 0;
    while (p < n) {
        const uint8_t *eq = memchr(b + p, '=', (size_t)(n - p));
        if (eq == NULL) break;
        Py_ssize_t q = eq - b;
        if (q >= 12 && q + 2 < n && (is_digit(b[q + 1]) || b[q + 1] == '=') &&
            (is_digit(b[q + 2]) || b[q + 2] == '=') && all_digits(b, q - 12, q))
            vec_push1(&out[0], q + 3);
        p = q + 1;
    }
}

static PyObject *fs_digit_prefilter(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "y*", &view)) return NULL;
    vec_t out[N_PREFILTERS];
    memset(out, 0, sizeof out);
    Py_BEGIN_ALLOW_THREADS
    scan_prefilters((const uint8_t *)view.buf, view.len, out);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    PyObject *res = PyTuple_New(N_PREFILTERS);
    for (int k = 0; k < N_PREFILTERS; k++) {
        PyObject *lst = NULL;
        if (res != NULL && !out[k].failed && (lst = PyList_New((Py_ssize_t)out[k].len)) != NULL) {
            for (size_t i = 0; i < out[k].len; i++) {
                PyObject *v = PyLong_FromSsize_t(out[k].v[i]);
                if (v == NULL) {
                    Py_CLEAR(lst);
                    break;
                }
                PyList_SET_ITEM(lst, (Py_ssize_t)i, v);
            }
        }
        if (lst == NULL) {
            if (!PyErr_Occurred()) PyErr_NoMemory();
            Py_CLEAR(res);
        } else {
            PyTuple_SET_ITEM(res, k, lst);
        }
        free(out[k].v);
    }
    return res;
}

/* ------------------------------------------------------------------------- JSON lines */

typedef struct {
    char *p;
    size_t len, cap;
} sbuf_t;

static int sb_put(sbuf_t *b, const char *s, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) {
            if (cap > ((size_t)PY_SSIZE_T_MAX) / 2) return -1;
            cap *= 2;
        }
        char *q = PyMem_Realloc(b->p, cap);
        if (q == NULL) return -1;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    return 0;
}

/* json.encoder.encode_basestring(u) (ensure_ascii=False): "..." with \\ \" \b \f \n \r \t and
 * other characters below U+0020 as \u00xx; everything else as is (UTF-8). */
static int sb_json_str(sbuf_t *b, PyObject *u) {
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(u, &n);
    if (s == NULL || sb_put(b, "\"", 1) < 0) return -1;
    Py_ssize_t run = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        if (sb_put(b, s + run, (size_t)(i - run)) < 0) return -1;
        char esc[8];
        const char *e = NULL;
        switch (c) {
        case '"': e = "\\\""; break;
        case '\\': e = "\\\\"; break;
        case '\b': e = "\\b"; break;
        case '\f': e = "\\f"; break;
        case '\n': e = "\\n"; break;
        case '\r': e = "\\r"; break;
        case '\t': e = "\\t"; break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", c);
            e = esc;
        }
        if (sb_put(b, e, strlen(e)) < 0) return -1;
        run = i + 1;
    }
    if (sb_put(b, s + run, (size_t)(n - run)) < 0) return -1;
    return sb_put(b, "\"", 1);
}

/* JSON text of a kind, detector or confidence, from `cache` or fallback(obj) (then cached);
 * `last` remembers the previous object of the field (rows repeat the same few objects) */
typedef struct {
    PyObject *obj;
    const char *s;
    Py_ssize_t n;
} last_t;

static int sb_cached(sbuf_t *b, PyObject *obj, PyObject *cache, PyObject *fallback,
                     last_t *last) {
    if (obj == last->obj) return sb_put(b, last->s, (size_t)last->n);
    PyObject *t = PyDict_GetItemWithError(cache, obj); /* borrowed, kept alive by cache */
    if (t == NULL) {
        if (PyErr_Occurred()) return -1;
        PyObject *nt = PyObject_CallOneArg(fallback, obj);
        if (nt == NULL) return -1;
        if (!PyUnicode_Check(nt)) {
            Py_DECREF(nt);
            PyErr_SetString(PyExc_TypeError, "fallback must return str");
            return -1;
        }
        int rc = PyDict_SetItem(cache, obj, nt);
        Py_DECREF(nt);
        if (rc < 0) return -1;
        if ((t = PyDict_GetItemWithError(cache, obj)) == NULL) return -1;
    }
    const char *s = PyUnicode_AsUTF8AndSize(t, &last->n);
    if (s == NULL) return -1;
    last->obj = obj; /* a borrowed pointer into rows, which outlive this call */
    last->s = s;
    return sb_put(b, s, (size_t)last->n);
}

static int sb_int(sbuf_t *b, long long v) {
    char num[24];
    int i = 24;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        num[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) num[--i] = '-';
    return sb_put(b, num + i, (size_t)(24 - i));
}

/* One line of vault scan --json: head + kind + ", "line": " + line (or null) + ", "page": " +
 * page + ", "masked": " + JSON string + ", "detector": " + detector + ", "confidence": " +
 * confidence + "}\n" (see cli._ScanJson). */
typedef struct {
    const char *head_s, *page_s;
    Py_ssize_t head_n, page_n;
    PyObject *cache, *fallback;
    last_t lk, ld, lc;
} jl_t;

static int jl_init(jl_t *j, PyObject *head, PyObject *page, PyObject *cache, PyObject *fallback) {
    j->head_s = PyUnicode_AsUTF8AndSize(head, &j->head_n);
    j->page_s = j->head_s ? PyUnicode_AsUTF8AndSize(page, &j->page_n) : NULL;
    j->cache = cache;
    j->fallback = fallback;
    j->lk = (last_t){NULL, NULL, 0};
    j->ld = j->lk;
    j->lc = j->lk;
    return j->page_s == NULL ? -1 : 0;
}

static int jl_line(sbuf_t *b, jl_t *j, PyObject *kind, PyObject *det, int has_line,
                   long long line, PyObject *masked, PyObject *conf) {
    if (sb_put(b, j->head_s, (size_t)j->head_n) < 0 ||
        sb_cached(b, kind, j->cache, j->fallback, &j->lk) < 0 ||
        sb_put(b, ", \"line\": ", 10) < 0 ||
        (has_line ? sb_int(b, line) : sb_put(b, "null", 4)) < 0 ||
        sb_put(b, ", \"page\": ", 10) < 0 || sb_put(b, j->page_s, (size_t)j->page_n) < 0 ||
        sb_put(b, ", \"masked\": ", 12) < 0 || sb_json_str(b, masked) < 0 ||
        sb_put(b, ", \"detector\": ", 14) < 0 ||
        sb_cached(b, det, j->cache, j->fallback, &j->ld) < 0 ||
        sb_put(b, ", \"confidence\": ", 16) < 0 ||
        sb_cached(b, conf, j->cache, j->fallback, &j->lc) < 0 || sb_put(b, "}\n", 2) < 0) {
        if (!PyErr_Occurred()) PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* json_lines(rows, head, page, cache, fallback) -> bytes: the lines (UTF-8) of rows (kind,
 * detector, start, end, line, masked, confidence, hash). */
static PyObject *fs_json_lines(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *rows, *head, *page, *cache, *fallback;
    if (!PyArg_ParseTuple(args, "O!UUO!O", &PyList_Type, &rows, &head, &page, &PyDict_Type,
                          &cache, &fallback))
        return NULL;
    jl_t j;
    if (jl_init(&j, head, page, cache, fallback) < 0) return NULL;
    sbuf_t b = {NULL, 0, 0};
    PyObject *res = NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(rows); i++) {
        PyObject *r = PyList_GET_ITEM(rows, i);
        if (!PyTuple_Check(r) || PyTuple_GET_SIZE(r) != 8) {
            PyErr_SetString(PyExc_TypeError, "a row is an 8-tuple");
            goto done;
        }
        PyObject *line = PyTuple_GET_ITEM(r, 4);
        long long v = 0;
        if (line != Py_None && (v = PyLong_AsLongLong(line)) == -1 && PyErr_Occurred()) goto done;
        if (jl_line(&b, &j, PyTuple_GET_ITEM(r, 0), PyTuple_GET_ITEM(r, 1), line != Py_None, v,
                    PyTuple_GET_ITEM(r, 5), PyTuple_GET_ITEM(r, 6)) < 0)
            goto done;
    }
    res = PyBytes_FromStringAndSize(b.p ? b.p : "", (Py_ssize_t)b.len);
done:
    PyMem_Free(b.p);
    return res;
}

/* json_hits(buf, hits, base_line, lo, hi, head, page, cache, fallback) -> (n, bytes):
 * json_lines(rows(buf, hits, 0, base_line, lo, hi, {}, None), ...) and the number of rows,
 * without making the rows: hits (sorted by start) starting in [lo, hi), each line number
 * counted in buf as rows does. */
static PyObject *fs_json_hits(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view;
    PyObject *hits, *head, *page, *cache, *fallback;
    Py_ssize_t base_line, lo, hi;
    if (!PyArg_ParseTuple(args, "y*O!nnnUUO!O", &view, &PyList_Type, &hits, &base_line, &lo, &hi,
                          &head, &page, &PyDict_Type, &cache, &fallback))
        return NULL;
    jl_t j;
    sbuf_t b = {NULL, 0, 0};
    PyObject *res = NULL;
    const uint8_t *buf = (const uint8_t *)view.buf;
    Py_ssize_t n = view.len, pos = 0, line = base_line + 1, count = 0;
    if (jl_init(&j, head, page, cache, fallback) < 0) goto done;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(hits); i++) {
        PyObject *h = PyList_GET_ITEM(hits, i);
        Py_ssize_t st;
        int in = walk_hit(h, buf, n, lo, hi, &pos, &line, &st);
        if (in < 0) goto done;
        if (in == 0) continue;
        if (jl_line(&b, &j, PyTuple_GET_ITEM(h, 0), PyTuple_GET_ITEM(h, 1), 1, line,
                    PyTuple_GET_ITEM(h, 4), PyTuple_GET_ITEM(h, 6)) < 0)
            goto done;
        count++;
    }
    PyObject *data = PyBytes_FromStringAndSize(b.p ? b.p : "", (Py_ssize_t)b.len);
    if (data != NULL) res = Py_BuildValue("(nN)", count, data);
done:
    PyMem_Free(b.p);
    PyBuffer_Release(&view);
    return res;
}

static int load_labels(PyObject *seq, labels_t *into) {
    PyObject *fast = PySequence_Fast(seq, "labels must be a sequence of bytes");
    if (fast == NULL) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    labels_t tmp = {0};
    if (n > MAX_LABELS) {
        PyErr_SetString(PyExc_ValueError, "too many labels");
        goto fail;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *t;
        Py_ssize_t len;
        if (!PyArg_Parse(PySequence_Fast_GET_ITEM(fast, i), "y#", &t, &len)) goto fail;
        if (len < 1 || len > MAX_LABEL_LEN) {
            PyErr_SetString(PyExc_ValueError, "a label must be 1-24 bytes");
            goto fail;
        }
        for (Py_ssize_t k = 0; k < len; k++) {
            if (!is_alpha((uint8_t)t[k])) {
                PyErr_SetString(PyExc_ValueError, "a label must be ASCII letters");
                goto fail;
            }
            tmp.text[i][k] = lower((uint8_t)t[k]);
        }
        tmp.len[i] = (uint8_t)len;
    }
    tmp.n = (int)n;
    *into = tmp;
    Py_DECREF(fast);
    return 0;
fail:
    Py_DECREF(fast);
    return -1;
}

/* configure_labels(words, suffixes): the non-card field names of rules._NEG_WORDS and
 * rules._NEG_SUFFIXES (ASCII letters, matched case-insensitively). */
static PyObject *fs_configure_labels(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *words, *suffixes;
    if (!PyArg_ParseTuple(args, "OO", &words, &suffixes)) return NULL;
    labels_t w, s;
    if (load_labels(words, &w) < 0 || load_labels(suffixes, &s) < 0) return NULL;
    neg_words = w;
    neg_suffixes = s;
    labels_set = 1;
    Py_RETURN_NONE;
}

/* Read a sequence of tuples of group sizes (1-5 groups of 1-19) into *into; 0, or -1 with an
 * exception (then *into is left as it was). */
static int load_layouts(PyObject *lays, layouts_t *into) {
    PyObject *lseq = PySequence_Fast(lays, "layouts must be a sequence");
    if (lseq == NULL) return -1;
    layouts_t tmp = {0};
    Py_ssize_t nl = PySequence_Fast_GET_SIZE(lseq);
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
        tmp.v[i][0] = (uint8_t)k;
        for (Py_ssize_t j = 0; j < k; j++) {
            long g = PyLong_AsLong(PySequence_Fast_GET_ITEM(t, j));
            if (g < 1 || g > 19) {
                Py_DECREF(t);
                if (!PyErr_Occurred())
                    PyErr_SetString(PyExc_ValueError, "group size must be 1-19");
                goto fail;
            }
            tmp.v[i][j + 1] = (uint8_t)g;
        }
        Py_DECREF(t);
    }
    tmp.n = (int)nl;
    *into = tmp;
    Py_DECREF(lseq);
    return 0;
fail:
    Py_DECREF(lseq);
    return -1;
}

/* configure(prefixes, layouts, dotted_layouts, free=None): prefixes is a sequence of (digits:
 * bytes, length mask: int) applied in order (later entries override: pass shorter prefixes
 * first); bit i of the mask allows length 12 + i. layouts (space- and dash-grouped numbers) and
 * dotted_layouts (dot-grouped ones) are sequences of tuples of group sizes. free: the bounds of
 * free groupings (cards.free_layout) as (min groups, max groups, first group's min and max
 * digits, other groups' min and max digits), None to keep those loaded. Nothing changes unless
 * all are valid. */
static int load_free(PyObject *spec, free_t *into) {
    int v[6];
    if (!PyArg_ParseTuple(spec, "iiiiii", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5])) return -1;
    if (v[0] < 1 || v[0] > v[1] || v[1] > MAX_LAYOUT_GROUPS || v[2] < 1 || v[2] > v[3] ||
        v[3] > MAX_GROUP || v[4] < 1 || v[4] > v[5] || v[5] > MAX_GROUP) {
        PyErr_SetString(PyExc_ValueError, "free grouping bounds out of range");
        return -1;
    }
    free_t f = {v[0], v[1], v[2], v[3], v[4], v[5]};
    *into = f;
    return 0;
}

static PyObject *fs_configure(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *prefixes, *lays, *dlays, *fspec = Py_None;
    if (!PyArg_ParseTuple(args, "OOO|O", &prefixes, &lays, &dlays, &fspec)) return NULL;
    layouts_t new_layouts, new_dotted;
    free_t new_free = free_spec;
    if (load_layouts(lays, &new_layouts) < 0 || load_layouts(dlays, &new_dotted) < 0 ||
        (fspec != Py_None && load_free(fspec, &new_free) < 0))
        return NULL;
    PyObject *pseq = PySequence_Fast(prefixes, "prefixes must be a sequence");
    if (pseq == NULL) return NULL;
    uint8_t *table = calloc(1000000, 1);
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
    layouts = new_layouts;
    dotted_layouts = new_dotted;
    free_spec = new_free;
    free(len_table);
    len_table = table;
    Py_DECREF(pseq);
    Py_RETURN_NONE;
fail:
    free(table);
    Py_DECREF(pseq);
    return NULL;
}

/* ------------------------------------------------------------------- distinct values */

/* distinct(rows, page, cap, full) -> {kind: [index, counts, confs, firsts, total]}:
 * distinct.py's distinct_reference. Per kind, in order of first occurrence of the rows' last
 * field (the value key): index maps the key to its position, counts and confs hold each
 * position's occurrences and highest confidence, firsts the (detector, line, page, masked) of
 * the first occurrence of the first `cap` keys, total the kind's rows. For a kind in `full`
 * (kind -> set of keys), only the keys in its set are indexed (and no firsts). */
#define DISTINCT_KINDS 32
typedef struct {
    PyObject *out, *page, *full; /* out: new reference; page, full: borrowed */
    Py_ssize_t cap;
    struct {
        PyObject *kind, *kv, *keep; /* borrowed: kv from out, keep (or NULL) from full */
        Py_ssize_t total;
    } slot[DISTINCT_KINDS];
    int nslots, cur;
} dstate_t;

/* Count one finding; `line` is borrowed, or NULL to make it from `line_n` when needed. */
static int distinct_add(dstate_t *d, PyObject *kind, PyObject *det, PyObject *line,
                        Py_ssize_t line_n, PyObject *masked, PyObject *conf, PyObject *key) {
    if (!PyFloat_Check(conf)) {
        PyErr_SetString(PyExc_TypeError, "a confidence is a float");
        return -1;
    }
    int cur = d->cur;
    if (cur < 0 || d->slot[cur].kind != kind) {
        cur = -1;
        for (int k = 0; k < d->nslots && cur < 0; k++)
            if (d->slot[k].kind == kind) cur = k;
        if (cur < 0) { /* a kind object not seen: by value, else a new kind */
            PyObject *kv = PyDict_GetItemWithError(d->out, kind);
            if (kv == NULL && PyErr_Occurred()) return -1;
            for (int k = 0; k < d->nslots && kv != NULL && cur < 0; k++)
                if (d->slot[k].kv == kv) cur = k;
            if (cur < 0) {
                if (d->nslots == DISTINCT_KINDS) {
                    PyErr_SetString(PyExc_ValueError, "too many kinds");
                    return -1;
                }
                PyObject *keep = PyDict_GetItemWithError(d->full, kind);
                if (keep == NULL && PyErr_Occurred()) return -1;
                if (keep != NULL && !PyAnySet_Check(keep)) {
                    PyErr_SetString(PyExc_TypeError, "full maps a kind to a set of keys");
                    return -1;
                }
                PyObject *nkv = PyList_New(5);
                PyObject *parts[4] = {PyDict_New(), PyList_New(0), PyList_New(0), PyList_New(0)};
                int bad = nkv == NULL;
                for (int k = 0; k < 4; k++) {
                    if (parts[k] == NULL) bad = 1;
                    else if (nkv != NULL) PyList_SET_ITEM(nkv, k, parts[k]);
                    else Py_DECREF(parts[k]);
                }
                if (nkv != NULL) PyList_SET_ITEM(nkv, 4, PyLong_FromLong(0));
                if (bad || PyList_GET_ITEM(nkv, 4) == NULL || PyDict_SetItem(d->out, kind, nkv) < 0) {
                    Py_XDECREF(nkv);
                    return -1;
                }
                Py_DECREF(nkv); /* out holds it */
                d->slot[d->nslots].kv = nkv;
                d->slot[d->nslots].keep = keep;
                d->slot[d->nslots].total = 0;
                cur = d->nslots++;
            }
            d->slot[cur].kind = kind;
        }
        d->cur = cur;
    }
    d->slot[cur].total++;
    PyObject *kv = d->slot[cur].kv;
    PyObject *index = PyList_GET_ITEM(kv, 0), *counts = PyList_GET_ITEM(kv, 1);
    PyObject *confs = PyList_GET_ITEM(kv, 2), *firsts = PyList_GET_ITEM(kv, 3);
    PyObject *pos = PyDict_GetItemWithError(index, key);
    if (pos != NULL) {
        Py_ssize_t p = PyLong_AsSsize_t(pos);
        Py_ssize_t n = PyLong_AsSsize_t(PyList_GET_ITEM(counts, p));
        PyObject *nn = PyLong_FromSsize_t(n + 1);
        if (nn == NULL || PyList_SetItem(counts, p, nn) < 0) return -1;
        if (PyFloat_AS_DOUBLE(conf) > PyFloat_AS_DOUBLE(PyList_GET_ITEM(confs, p)) &&
            PyList_SetItem(confs, p, Py_NewRef(conf)) < 0)
            return -1;
        return 0;
    }
    if (PyErr_Occurred()) return -1;
    if (d->slot[cur].keep != NULL) {
        int in = PySet_Contains(d->slot[cur].keep, key);
        if (in <= 0) return in; /* not in the kept set: counted in total only */
    }
    Py_ssize_t p = PyList_GET_SIZE(counts);
    PyObject *np = PyLong_FromSsize_t(p);
    int rc = np == NULL ? -1 : PyDict_SetItem(index, key, np);
    Py_XDECREF(np);
    if (rc < 0 || PyList_Append(counts, S_ONE) < 0 || PyList_Append(confs, conf) < 0) return -1;
    if (d->slot[cur].keep == NULL && PyList_GET_SIZE(firsts) < d->cap) {
        PyObject *items[4] = {Py_NewRef(det), line ? Py_NewRef(line) : PyLong_FromSsize_t(line_n),
                              Py_NewRef(d->page), Py_NewRef(masked)};
        PyObject *first = tuple_steal(4, items);
        rc = first == NULL ? -1 : PyList_Append(firsts, first);
        Py_XDECREF(first);
        if (rc < 0) return -1;
    }
    return 0;
}

static int distinct_start(dstate_t *d, PyObject *page, Py_ssize_t cap, PyObject *full) {
    d->out = PyDict_New();
    d->page = page;
    d->full = full;
    d->cap = cap;
    d->nslots = 0;
    d->cur = -1;
    return d->out == NULL ? -1 : 0;
}

static PyObject *distinct_end(dstate_t *d) {
    for (int k = 0; k < d->nslots; k++) {
        PyObject *t = PyLong_FromSsize_t(d->slot[k].total);
        if (t == NULL || PyList_SetItem(d->slot[k].kv, 4, t) < 0) {
            Py_CLEAR(d->out);
            return NULL;
        }
    }
    return d->out;
}

static PyObject *fs_distinct(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *rows, *page, *full;
    Py_ssize_t cap;
    dstate_t d;
    if (!PyArg_ParseTuple(args, "O!OnO!", &PyList_Type, &rows, &page, &cap, &PyDict_Type, &full) ||
        distinct_start(&d, page, cap, full) < 0)
        return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(rows); i++) {
        PyObject *r = PyList_GET_ITEM(rows, i);
        if (!PyTuple_Check(r) || PyTuple_GET_SIZE(r) != 8) {
            PyErr_SetString(PyExc_TypeError, "a row is an 8-tuple");
            goto fail;
        }
        if (distinct_add(&d, PyTuple_GET_ITEM(r, 0), PyTuple_GET_ITEM(r, 1), PyTuple_GET_ITEM(r, 4),
                         0, PyTuple_GET_ITEM(r, 5), PyTuple_GET_ITEM(r, 6),
                         PyTuple_GET_ITEM(r, 7)) < 0)
            goto fail;
    }
    return distinct_end(&d);
fail:
    Py_XDECREF(d.out);
    return NULL;
}

/* distinct_hits(buf, hits, base_line, lo, hi, page, cap, full): distinct(rows, page, cap, full)
 * of the rows in "clear" values mode (the key: the hit's normalised value) that
 * rows(buf, hits, 0, base_line, lo, hi, ...) would make, without making them. */
static PyObject *fs_distinct_hits(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view;
    PyObject *hits, *page, *full;
    Py_ssize_t base_line, lo, hi, cap;
    dstate_t d;
    d.out = NULL;
    if (!PyArg_ParseTuple(args, "y*O!nnnOnO!", &view, &PyList_Type, &hits, &base_line, &lo, &hi,
                          &page, &cap, &PyDict_Type, &full))
        return NULL;
    const uint8_t *buf = (const uint8_t *)view.buf;
    Py_ssize_t n = view.len, pos = 0, line = base_line + 1;
    if (distinct_start(&d, page, cap, full) < 0) goto fail;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(hits); i++) {
        PyObject *h = PyList_GET_ITEM(hits, i);
        Py_ssize_t st;
        int in = walk_hit(h, buf, n, lo, hi, &pos, &line, &st);
        if (in < 0) goto fail;
        if (in == 0) continue;
        if (distinct_add(&d, PyTuple_GET_ITEM(h, 0), PyTuple_GET_ITEM(h, 1), NULL, line,
                         PyTuple_GET_ITEM(h, 4), PyTuple_GET_ITEM(h, 6),
                         PyTuple_GET_ITEM(h, 5)) < 0)
            goto fail;
    }
    PyBuffer_Release(&view);
    return distinct_end(&d);
fail:
    PyBuffer_Release(&view);
    Py_XDECREF(d.out);
    return NULL;
}

static PyMethodDef methods[] = {
    {"configure", fs_configure, METH_VARARGS,
     "configure(prefixes, layouts, dotted_layouts, free=None): load the IIN length table, the "
     "printed layouts (of space/dash-grouped and of dot-grouped numbers) and the bounds of free "
     "groupings"},
    {"pan_matches", (PyCFunction)(void (*)(void))fs_pan_matches, METH_VARARGS | METH_KEYWORDS,
     "pan_matches(buf, validate=True) -> [(start, end)] of PAN_RE matches (with validate, "
     "only those that can hold a full PAN); releases the GIL"},
    {"ipv4_matches", fs_ipv4_matches, METH_VARARGS,
     "ipv4_matches(buf) -> [(start, end)] of _IPV4_RE matches; releases the GIL"},
    {"drop_overlaps", fs_drop_overlaps, METH_VARARGS,
     "drop_overlaps(hits, priority) -> hits: scanner._drop_overlaps (sorts like it)"},
    {"rows", fs_rows, METH_VARARGS,
     "rows(buf, hits, base, base_line, lo, hi, cache, value_hash) -> [Row]: Scanner._rows's loop"},
    {"digit_prefilter", fs_digit_prefilter, METH_VARARGS,
     "digit_prefilter(buf) -> 6 lists of match end offsets of the digit-led prefilter patterns"},
    {"json_hits", fs_json_hits, METH_VARARGS,
     "json_hits(buf, hits, base_line, lo, hi, head, page, cache, fallback) -> (n, bytes): "
     "json_lines of the rows of hits, without the rows"},
    {"json_lines", fs_json_lines, METH_VARARGS,
     "json_lines(rows, head, page, cache, fallback) -> bytes: vault scan --json lines of rows "
     "(UTF-8)"},
    {"configure_labels", fs_configure_labels, METH_VARARGS,
     "configure_labels(words, suffixes): the non-card field names (rules._NEG_WORDS, _NEG_SUFFIXES)"},
    {"pan_hits", fs_pan_hits, METH_VARARGS,
     "pan_hits(buf) -> [Hit] of the PAN handler over every PAN_RE match; releases the GIL"},
    {"distinct", fs_distinct, METH_VARARGS,
     "distinct(rows, page, cap, full) -> {kind: [index, counts, confs, firsts, total]}: "
     "distinct.py's loop"},
    {"distinct_hits", fs_distinct_hits, METH_VARARGS,
     "distinct_hits(buf, hits, base_line, lo, hi, page, cap, full): distinct of the rows of hits "
     "(clear values), without the rows"},
    {"ipv4_hits", fs_ipv4_hits, METH_VARARGS,
     "ipv4_hits(buf) -> [Hit] of the IPv4 handler over every _IPV4_RE match; releases the GIL"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fastscan", NULL, -1, methods,
                                     NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__fastscan(void) {
    static const double conf[4] = {0.9, 0.95, 0.99, 0.8};
    S_EMPTY = PyUnicode_InternFromString("");
    S_ONE = PyLong_FromLong(1);
    S_PAN = PyUnicode_InternFromString("pan");
    S_PAN_DET = PyUnicode_InternFromString("pan.luhn_iin");
    S_IP = PyUnicode_InternFromString("ip_address");
    S_IP4_DET = PyUnicode_InternFromString("ip_address.v4");
    if (!S_EMPTY || !S_ONE || !S_PAN || !S_PAN_DET || !S_IP || !S_IP4_DET) return NULL;
    for (int i = 0; i < 4; i++)
        if ((F_CONF[i] = PyFloat_FromDouble(conf[i])) == NULL) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && (PyModule_AddIntConstant(m, "MAX_GROUP", MAX_GROUP) < 0 ||
                      PyModule_AddIntConstant(m, "MAX_CHAIN", MAX_CHAIN) < 0 ||
                      PyModule_AddIntConstant(m, "MAX_LAYOUT_GROUPS", MAX_LAYOUT_GROUPS) < 0))
        Py_CLEAR(m);
    return m;
}
