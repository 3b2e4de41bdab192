/*
 * op_aggregate.c: GROUP BY the key of an integrate node, with COUNT(*),
 * COUNT, SUM, TOTAL, AVG, MIN, MAX and GROUP_CONCAT, each optionally over
 * DISTINCT values and with a FILTER.
 *
 *   agg(z) = { (g, f(z|g)) : g a group of z };
 *   d out = agg(I(x)) - agg(z^-1(I(x))), which only differs on groups in dx
 *
 * The node keeps each group's accumulators in a state spine keyed by group
 * (D8, dbsp/README.md): the group's total weight and, per aggregate, its
 * count, exact 128-bit INT sum, REAL sum state, MIN/MAX best value.  For a
 * group touched by dx it seeks the group's state (groups ascending, one
 * cursor), folds only the group's rows of dx into a copy of it, and emits
 * -old +new when the finished rows differ; -old +new state goes to the
 * state spine.  COUNT(*), COUNT(x) and SUM, TOTAL, AVG over INT values are
 * exact under insertions and deletions that way.  COUNT, SUM, TOTAL and AVG
 * over DISTINCT values keep a multiplicity per (group, column, value) and
 * FILTER in a second spine (the projection of dx, integrated: it is linear)
 * and change only when a value's multiplicity crosses zero: one seek per
 * distinct (group, column, value) of dx, whatever the number of FILTERs.
 * What a fold cannot keep exactly sends the group to the recompute path,
 * which folds every row of the group in the integral after this step (D2)
 * as the node did before it kept state: a REAL (or non-integer text)
 * summand in dx (a REAL sum cannot be taken back exactly; INT summands
 * leave a group's REAL part and its order alone), a DISTINCT sum's value
 * once the group holds a REAL value, a MIN/MAX deletion that is not strictly worse than
 * the best, a MIN/MAX improvement while the group may hold a row of
 * non-positive weight, an equal value of other bytes than the best (1 and
 * 1.0), or a total weight that drops to zero or below (the group may be
 * gone).  The recomputed accumulators become the new state, so the fold and
 * the recompute give the same bytes.  A node with a GROUP_CONCAT keeps no
 * state and recomputes every touched group, old and new, from the integral
 * (D8).  Built by dbsp_plan_count over a multiset stream, the node has no
 * integral: counts and sums never need one there but to refold REAL parts,
 * and it keeps the rows with a non-INT summand for that (D8).
 * Per step: O(|dx| + touched groups x log |state|) for folds, plus
 * O(|dx| log |M|) for DISTINCT (M: the multiplicity spine), plus the size of
 * each recomputed group (times its log for DISTINCT and GROUP_CONCAT).
 *
 * Semantics as SQLite: MIN and MAX skip NULLs; SUM over INT is exact (kept
 * in 128 bits) and an "integer overflow" error if the result does not fit
 * 64 bits; SUM over REAL is a compensated double sum; TOTAL is that sum as
 * a REAL (0.0 over nothing); AVG is REAL; COUNT(x) counts non-NULL values;
 * COUNT(*) rows.  SQLite raises overflow when a running sum overflows; ivm
 * only when the final sum does, since its order of rows is not SQLite's
 * (README, "Operators").  DISTINCT keeps each value once (values equal
 * under dbsp_value_cmp are one value, so 1 and 1.0 are); FILTER skips the
 * rows whose condition column is not true.  GROUP_CONCAT joins values in
 * ivm's order, by value, not SQLite's scan order (README).  With nkey == 0
 * the one group exists even when empty: the first step emits (0, NULL, ...)
 * and it is maintained from then on (D9).  Rows must be sharded by group
 * (D4).
 */
#include "dbsp_int.h"

#include <math.h>

/* A value collected for DISTINCT or GROUP_CONCAT: its encoding (and its
 * separator's) in the collection's byte buffer, and its weight. */
typedef struct agg_item {
    size_t voff, soff;
    uint32_t vlen, slen;
    int64_t w;
} agg_item;

/* The fold of one aggregate over one group. */
typedef struct agg_acc {
    int64_t count;            /* rows (COUNT(*)) or non-NULL values */
    __int128 isum;            /* exact sum of INT values */
    double rsum, rcomp;       /* compensated sum of REAL values (Neumaier) */
    bool real;                /* some REAL value was summed */
    bool seen_real;           /* DISTINCT sums: the group holds a REAL value,
                                 maybe hidden behind an equal INT (D8) */
    bool has_best;            /* MIN/MAX: best holds a value */
    bool unclean;             /* MIN/MAX: a row of non-positive weight may be
                                 among the group's values (D8) */
    ivm_value best;           /* MIN/MAX; GROUP_CONCAT's result; text points into tbuf */
    char *tbuf;               /* owned text of best */
    size_t tcap;
    /* DISTINCT and GROUP_CONCAT: the group's values, sorted at the end.
     * Buffers are kept from group to group (no per-row allocation). */
    agg_item *items;
    size_t nitems, icap;
    uint8_t *bytes;
    size_t nbytes, bcap;
} agg_acc;

/* A value of one row of dx for the DISTINCT aggregates' multiplicities: its
 * column tag (the first such aggregate over the same column), the filter
 * tags (the first over the same column and FILTER) whose filters the row
 * passes, as bits of a word, its canonical encoding in the state's mbytes,
 * and the row's weight. */
typedef struct mult_item {
    uint32_t ctag, slot;      /* slot: a word of filter bits of ctag */
    uint32_t len;
    size_t off;
    int64_t w;
    uint64_t mask;            /* the filter tags of slot the row passes */
    uint64_t pfx[2];          /* the encoding's first 16 bytes, big-endian,
                                 zero-padded: most comparisons end here */
} mult_item;

typedef struct aggregate_state {
    bool started;             /* the first step has run */
    bool stateful;            /* keeps group states (no GROUP_CONCAT, D8) */
    ivm_value *vals;          /* a decoded input row */
    ivm_value *res;           /* the aggregates of one group */
    agg_acc *acc;             /* one per aggregate: the group now */
    int64_t total;            /* the group's total weight (stateful) */
    uint32_t naggs;
    uint8_t *row;             /* encoded res: the group's new row */
    size_t row_cap;
    uint8_t *orow;            /* the group's row before this step */
    size_t orow_cap;
    /* Stateful nodes only. */
    spine *st;                /* group -> encoded accumulators, weight 1 */
    spine *mult;              /* (group, tag, value) -> multiplicity; NULL
                                 without a DISTINCT count or sum */
    spine *reals;             /* dbsp_plan_count with a sum: (group, row) ->
                                 weight, the integral of the rows with a
                                 summand that is not an INT (D8) */
    spine_builder sbld, mbld, rbld; /* this step's changes of st, mult, reals */
    uint32_t *dtag;           /* per aggregate: its multiplicities' filter
                                 tag, or UINT32_MAX when it keeps none */
    uint32_t *ctag;           /* per aggregate: its column tag */
    uint32_t nslots;          /* words of filter bits: per column tag, one
                                 per 64 filter tags */
    uint32_t *slot_of;        /* per filter tag: its word and bit */
    uint8_t *bit_of;
    uint32_t *slot_ctag;      /* per word: its column tag */
    uint32_t *slot_ftags;     /* per word: 64 filter tags (UINT32_MAX: none) */
    uint64_t *wmask;          /* per word: the filter tags a row passes */
    int64_t *fw;              /* per filter tag: a value's weight in dx */
    uint32_t *ftv;            /* the filter tags one value of dx touches,
                                 ascending (at most one per aggregate) */
    ivm_value *sv;            /* a state row, decoded or to encode */
    uint8_t *sbuf;            /* a group's new state, encoded */
    size_t sbuf_cap;
    mult_item *mitems;        /* the touched group's DISTINCT values of dx */
    size_t nmitems, micap;
    mult_item *mtmp;          /* scratch of mult_radix, mtcap items */
    size_t mtcap;
    uint8_t *mbytes;
    size_t nmbytes, mbcap;
    uint8_t *probe;           /* a key of mult being sought */
    size_t probe_cap;
} aggregate_state;

/* Slots of a group's state row: the total, then per aggregate by kind. */
enum {
    SLOTS_COUNT = 1,          /* count */
    SLOTS_SUM = 4,            /* count, isum low, isum high, flags;
                                 with SF_REAL two more: rsum, rcomp bits */
    SLOTS_BEST = 2            /* flags, best (NULL: none) */
};
enum { SF_REAL = 1, SF_UNCLEAN = 2, SF_SEEN_REAL = 4 };

static bool is_sum(uint8_t kind)
{
    return kind == DBSP_AGG_SUM || kind == DBSP_AGG_AVG || kind == DBSP_AGG_TOTAL;
}

/* What dbsp_plan_count takes: an aggregate whose fold over a multiset needs
 * no row of the integral but its non-INT summands (D8, "Counts keep no
 * integral"). */
bool dbsp_agg_folds_exactly(const dbsp_agg *g)
{
    return g->kind == DBSP_AGG_COUNT_STAR || g->kind == DBSP_AGG_COUNT ||
           (is_sum(g->kind) && !(g->flags & DBSP_AGG_F_DISTINCT));
}

static ivm_rc plan_aggregate(dbsp_plan *p, dbsp_node in_integrated, bool counts,
                             uint32_t naggs, const dbsp_agg *aggs, dbsp_node *out)
{
    const dbsp_pnode *src = dbsp_plan_node(p, in_integrated);
    if (src == NULL || (src->kind != DBSP_INTEGRATE && !counts) || (naggs > 0 && aggs == NULL))
        return IVM_INVALID;
    for (uint32_t i = 0; counts && i < naggs; i++)
        if (!dbsp_agg_folds_exactly(&aggs[i]))
            return IVM_INVALID;
    for (uint32_t i = 0; i < naggs; i++) {
        const dbsp_agg *g = &aggs[i];
        if (g->kind >= DBSP_AGG_KIND_COUNT_)
            return IVM_INVALID;
        if (g->kind != DBSP_AGG_COUNT_STAR && g->col >= src->ncols)
            return IVM_INVALID;
        if (g->flags & ~(DBSP_AGG_F_DISTINCT | DBSP_AGG_F_FILTER | DBSP_AGG_F_SEP))
            return IVM_INVALID;
        if ((g->flags & DBSP_AGG_F_FILTER) && g->filter_col >= src->ncols)
            return IVM_INVALID;
        if ((g->flags & DBSP_AGG_F_SEP) &&
            (g->kind != DBSP_AGG_GROUP_CONCAT || g->sep_col >= src->ncols))
            return IVM_INVALID;
        if ((g->flags & DBSP_AGG_F_DISTINCT) && g->kind == DBSP_AGG_COUNT_STAR)
            return IVM_INVALID;
    }
    dbsp_pnode nd = {.kind = DBSP_AGGREGATE, .vt = &dbsp_op_aggregate_vt,
                     .ncols = src->nkey + naggs, .nkey = src->nkey, .nin = 1,
                     .in = {in_integrated}, .partitioned = src->partitioned,
                     .naggs = naggs, .aggs = (dbsp_agg *)aggs};
    return dbsp_plan_add(p, &nd, out);
}

ivm_rc dbsp_plan_aggregate(dbsp_plan *p, dbsp_node in_integrated, uint32_t naggs,
                           const dbsp_agg *aggs, dbsp_node *out)
{
    return plan_aggregate(p, in_integrated, false, naggs, aggs, out);
}

ivm_rc dbsp_plan_count(dbsp_plan *p, dbsp_node in, uint32_t naggs, const dbsp_agg *aggs,
                       dbsp_node *out)
{
    return plan_aggregate(p, in, true, naggs, aggs, out);
}

/* DISTINCT COUNT, SUM, TOTAL and AVG keep multiplicities; DISTINCT MIN and
 * MAX need none (a value's presence is all they read). */
static bool keeps_mult(const dbsp_agg *g)
{
    return (g->flags & DBSP_AGG_F_DISTINCT) && (g->kind == DBSP_AGG_COUNT || is_sum(g->kind));
}

static ivm_rc aggregate_init(dbsp_ctx *c, dbsp_node n, void *state)
{
    aggregate_state *s = state;
    const dbsp_pnode *nd = &c->plan->nodes[n];
    s->vals = ivm_calloc(c->plan->nodes[nd->in[0]].ncols + 1, sizeof *s->vals);
    s->res = ivm_calloc(nd->naggs + 1, sizeof *s->res);
    s->acc = ivm_calloc(nd->naggs + 1, sizeof *s->acc);
    if (s->vals == NULL || s->res == NULL || s->acc == NULL)
        return IVM_NOMEM;
    s->naggs = nd->naggs;
    s->stateful = true;
    bool distinct = false;
    for (uint32_t k = 0; k < nd->naggs; k++) {
        if (nd->aggs[k].kind == DBSP_AGG_GROUP_CONCAT)
            s->stateful = false;
        distinct |= keeps_mult(&nd->aggs[k]);
    }
    if (!s->stateful)
        return IVM_OK;
    spine_builder_init(&s->sbld);
    spine_builder_init(&s->mbld);
    spine_builder_init(&s->rbld);
    s->dtag = ivm_calloc(nd->naggs + 1, sizeof *s->dtag);
    s->ctag = ivm_calloc(nd->naggs + 1, sizeof *s->ctag);
    s->sv = ivm_calloc(1 + (SLOTS_SUM + 2) * (size_t)nd->naggs, sizeof *s->sv);
    s->st = dbsp_spine_probed();
    if (s->dtag == NULL || s->ctag == NULL || s->sv == NULL || s->st == NULL)
        return IVM_NOMEM;
    /* Without the integral a sum keeps its rows that a fold cannot take
     * back: those with a REAL (or non-integer text) summand. */
    bool sums = false;
    for (uint32_t k = 0; k < nd->naggs; k++)
        sums |= is_sum(nd->aggs[k].kind);
    if (sums && c->plan->nodes[nd->in[0]].kind != DBSP_INTEGRATE &&
        (s->reals = dbsp_spine_probed()) == NULL)
        return IVM_NOMEM;
    /* Aggregates over the same values (column and FILTER) share one set of
     * multiplicities: COUNT(DISTINCT x) next to SUM(DISTINCT x).  Those
     * over one column share a key in mult, (group, column tag, value), and
     * keep their multiplicities as its values, one per filter tag: one seek
     * per value of dx finds all of them. */
    for (uint32_t k = 0; k < nd->naggs; k++) {
        const dbsp_agg *g = &nd->aggs[k];
        s->dtag[k] = s->ctag[k] = UINT32_MAX;
        if (!keeps_mult(g))
            continue;
        s->dtag[k] = s->ctag[k] = k;
        for (uint32_t j = 0; j < k; j++)
            if (keeps_mult(&nd->aggs[j]) && nd->aggs[j].col == g->col) {
                s->ctag[k] = s->ctag[j];
                break;
            }
        for (uint32_t j = 0; j < k; j++) {
            const dbsp_agg *h = &nd->aggs[j];
            if (keeps_mult(h) && h->col == g->col &&
                (h->flags & DBSP_AGG_F_FILTER) == (g->flags & DBSP_AGG_F_FILTER) &&
                (!(g->flags & DBSP_AGG_F_FILTER) || h->filter_col == g->filter_col)) {
                s->dtag[k] = s->dtag[j];
                break;
            }
        }
    }
    if (!distinct)
        return IVM_OK;
    size_t na = nd->naggs;
    s->slot_of = ivm_calloc(na, sizeof *s->slot_of);
    s->bit_of = ivm_calloc(na, 1);
    s->slot_ctag = ivm_calloc(na, sizeof *s->slot_ctag);
    s->slot_ftags = ivm_calloc(na * 64, sizeof *s->slot_ftags);
    s->wmask = ivm_calloc(na, sizeof *s->wmask);
    s->fw = ivm_calloc(na, sizeof *s->fw);
    s->ftv = ivm_calloc(na, sizeof *s->ftv);
    if (s->slot_of == NULL || s->bit_of == NULL || s->slot_ctag == NULL ||
        s->slot_ftags == NULL || s->wmask == NULL || s->fw == NULL || s->ftv == NULL ||
        (s->mult = dbsp_spine_probed()) == NULL)
        return IVM_NOMEM;
    memset(s->slot_ftags, 0xff, na * 64 * sizeof *s->slot_ftags);
    /* Each column tag's filter tags, in ascending order, get consecutive
     * bits of consecutive words. */
    for (uint32_t k = 0; k < nd->naggs; k++) {
        if (s->ctag[k] != k)
            continue;
        uint32_t pos = 0, first = s->nslots;
        for (uint32_t j = k; j < nd->naggs; j++) {
            if (s->ctag[j] != k || s->dtag[j] != j)
                continue;
            uint32_t w = first + pos / 64;
            s->slot_of[j] = w;
            s->bit_of[j] = (uint8_t)(pos % 64);
            s->slot_ctag[w] = k;
            s->slot_ftags[(size_t)w * 64 + pos % 64] = j;
            s->nslots = w + 1;
            pos++;
        }
    }
    return IVM_OK;
}

/* Neumaier's compensated step: the error of each addition is kept apart,
 * so that the order rows come in hardly matters. */
static void kbn_add(agg_acc *a, double x)
{
    double t = a->rsum + x;
    if (fabs(a->rsum) >= fabs(x))
        a->rcomp += (a->rsum - t) + x;
    else
        a->rcomp += (x - t) + a->rsum;
    a->rsum = t;
}

/* Copies text into a's own buffer (cursor bytes die when it moves). */
static ivm_rc keep_text(agg_acc *a, const char *p, size_t n, ivm_value *out)
{
    if (n > a->tcap) {
        size_t cap = a->tcap;
        if (ivm_grow((void **)&a->tbuf, &cap, n, 1) != IVM_OK)
            return IVM_NOMEM;
        a->tcap = cap;
    }
    if (n > 0)
        memcpy(a->tbuf, p, n);
    *out = ivm_value_text(a->tbuf, (uint32_t)n);
    return IVM_OK;
}

static ivm_rc keep_best(agg_acc *a, const ivm_value *v)
{
    a->has_best = true;
    if (v->type != IVM_TTEXT) {
        a->best = *v;
        return IVM_OK;
    }
    return keep_text(a, v->u.s.p, v->u.s.n, &a->best);
}

/* Adds (v, sep) with weight w to a's collection. */
static ivm_rc collect(agg_acc *a, const ivm_value *v, const ivm_value *sep, int64_t w)
{
    size_t vlen = spine_row_size(v, 1), slen = sep ? spine_row_size(sep, 1) : 0;
    if (a->nitems == a->icap &&
        ivm_grow((void **)&a->items, &a->icap, a->nitems + 1, sizeof *a->items) != IVM_OK)
        return IVM_NOMEM;
    if (a->nbytes + vlen + slen > a->bcap &&
        ivm_grow((void **)&a->bytes, &a->bcap, a->nbytes + vlen + slen, 1) != IVM_OK)
        return IVM_NOMEM;
    agg_item *it = &a->items[a->nitems++];
    it->voff = a->nbytes;
    it->vlen = (uint32_t)vlen;
    a->nbytes += spine_value_encode(v, a->bytes + a->nbytes);
    it->soff = a->nbytes;
    it->slen = (uint32_t)slen;
    if (sep)
        a->nbytes += spine_value_encode(sep, a->bytes + a->nbytes);
    it->w = w;
    return IVM_OK;
}

static void sum_value(agg_acc *a, const ivm_value *v, int64_t w)
{
    ivm_value x = *v;
    if (x.type == IVM_TTEXT)
        x = dbsp_value_sum_numeric(&x);
    if (x.type == IVM_TINT) {
        a->isum += (__int128)x.u.i * w;
    } else {
        a->real = true;
        kbn_add(a, x.u.r * (double)w);
    }
}

/* The value aggregate g folds from a row present w times, or NULL when
 * the row adds nothing more to it: its FILTER is not true, its argument is
 * NULL, or it is COUNT(*), which this counts. */
static inline const ivm_value *agg_arg(const dbsp_agg *g, agg_acc *a, const ivm_value *vals,
                                       int64_t w)
{
    /* A FILTER's condition is mostly a comparison, an INT 0 or 1: tested
     * in place, once per aggregate and row (Nexmark q16 tests nine). */
    if (g->flags & DBSP_AGG_F_FILTER) {
        const ivm_value *f = &vals[g->filter_col];
        if (f->type == IVM_TINT ? f->u.i == 0 : dbsp_value_truth(f) != 1)
            return NULL;
    }
    if (g->kind == DBSP_AGG_COUNT_STAR) {
        a->count += w;
        return NULL;
    }
    const ivm_value *v = &vals[g->col];
    return v->type == IVM_TNULL ? NULL : v;
}

/* Folds one row of values, present w times, into every aggregate. */
static ivm_rc fold(const dbsp_pnode *nd, aggregate_state *s, const ivm_value *vals, int64_t w)
{
    s->total += w;
    for (uint32_t k = 0; k < nd->naggs; k++) {
        const dbsp_agg *g = &nd->aggs[k];
        agg_acc *a = &s->acc[k];
        const ivm_value *v = agg_arg(g, a, vals, w);
        if (v == NULL)
            continue;
        if (w <= 0)
            a->unclean = true;
        if ((g->flags & DBSP_AGG_F_DISTINCT) || g->kind == DBSP_AGG_GROUP_CONCAT) {
            if (v->type == IVM_TREAL)
                a->seen_real = true;
            /* Counted when the collection is finished. */
            ivm_value empty = ivm_value_text("", 0);
            const ivm_value *sep = NULL;
            if (g->flags & DBSP_AGG_F_SEP)
                sep = vals[g->sep_col].type == IVM_TNULL ? &empty : &vals[g->sep_col];
            ivm_rc rc = collect(a, v, sep, w);
            if (rc != IVM_OK)
                return rc;
            continue;
        }
        a->count += w;
        switch (g->kind) {
        case DBSP_AGG_SUM:
        case DBSP_AGG_AVG:
        case DBSP_AGG_TOTAL:
            sum_value(a, v, w);
            break;
        case DBSP_AGG_MIN:
        case DBSP_AGG_MAX: {
            /* A row deleted more often than inserted is not a value. */
            if (w <= 0)
                break;
            int cmp = a->has_best ? dbsp_value_cmp(v, &a->best) : 0;
            if (!a->has_best || (g->kind == DBSP_AGG_MIN ? cmp < 0 : cmp > 0)) {
                ivm_rc rc = keep_best(a, v);
                if (rc != IVM_OK)
                    return rc;
            }
            break;
        }
        default:
            break;
        }
    }
    return IVM_OK;
}

/* Sorting collected items: by value (SQL order), then separator bytes,
 * then value bytes, so that of equal values of two classes (1 and 1.0) the
 * INT comes first whatever order they were collected in: DISTINCT takes a
 * run's first value, MIN the first present value, MAX the last. */
static int item_cmp(const void *pa, const void *pb, void *ctx)
{
    const uint8_t *bytes = ctx;
    const agg_item *x = pa, *y = pb;
    ivm_value u, v;
    spine_row_decode(bytes + x->voff, x->vlen, &u, 1);
    spine_row_decode(bytes + y->voff, y->vlen, &v, 1);
    int c = dbsp_value_cmp(&u, &v);
    if (c != 0)
        return c;
    c = spine_row_cmp(bytes + x->soff, x->slen, bytes + y->soff, y->slen);
    if (c != 0)
        return c;
    return spine_row_cmp(bytes + x->voff, x->vlen, bytes + y->voff, y->vlen);
}

/* Finishes a DISTINCT aggregate or a GROUP_CONCAT from its collection:
 * equal values are merged (their weights summed; only a positive total is
 * present), then counted, summed or joined. */
static ivm_rc finish_collection(dbsp_ctx *c, const dbsp_agg *g, agg_acc *a)
{
    bool distinct = (g->flags & DBSP_AGG_F_DISTINCT) != 0;
    if (a->nitems > 1)
        qsort_r(a->items, a->nitems, sizeof *a->items, item_cmp, a->bytes);
    bool concat = g->kind == DBSP_AGG_GROUP_CONCAT;
    size_t out = 0;           /* GROUP_CONCAT: bytes written to tbuf */
    bool first = true;
    for (size_t i = 0; i < a->nitems;) {
        ivm_value v;
        spine_row_decode(a->bytes + a->items[i].voff, a->items[i].vlen, &v, 1);
        /* A run of equal values (and, without DISTINCT, equal separators). */
        int64_t w = 0;
        size_t j = i;
        for (; j < a->nitems; j++) {
            ivm_value u;
            spine_row_decode(a->bytes + a->items[j].voff, a->items[j].vlen, &u, 1);
            if (dbsp_value_cmp(&u, &v) != 0)
                break;
            /* Without DISTINCT 1 and 1.0 are two values (joined as both). */
            if (!distinct &&
                (spine_row_cmp(a->bytes + a->items[j].soff, a->items[j].slen,
                               a->bytes + a->items[i].soff, a->items[i].slen) != 0 ||
                 spine_row_cmp(a->bytes + a->items[j].voff, a->items[j].vlen,
                               a->bytes + a->items[i].voff, a->items[i].vlen) != 0))
                break;
            w += a->items[j].w;
        }
        const agg_item *it = &a->items[i];
        i = j;
        if (w <= 0)
            continue;
        if (distinct)
            w = 1;
        if (!concat) {
            a->count += w;
            if (g->kind == DBSP_AGG_SUM || g->kind == DBSP_AGG_AVG || g->kind == DBSP_AGG_TOTAL)
                sum_value(a, &v, w);
            /* MIN and MAX: the first and the last present value. */
            if ((g->kind == DBSP_AGG_MIN && !a->has_best) || g->kind == DBSP_AGG_MAX) {
                ivm_rc rc = keep_best(a, &v);
                if (rc != IVM_OK)
                    return rc;
            }
            continue;
        }
        a->count += w;
        char num[40];
        ivm_value t = dbsp_value_text_form(&v, num, sizeof num);
        ivm_value sep = ivm_value_text(",", 1);
        if (g->flags & DBSP_AGG_F_SEP)
            spine_row_decode(a->bytes + it->soff, it->slen, &sep, 1);
        for (int64_t r = 0; r < w; r++) {
            size_t add = t.u.s.n + (first ? 0 : sep.u.s.n);
            if (out + add > DBSP_TEXT_MAX)
                return ivm_err_set(&c->err, IVM_INVALID, 0, 0, "string or blob too big");
            if (out + add > a->tcap) {
                size_t cap = a->tcap;
                if (ivm_grow((void **)&a->tbuf, &cap, out + add, 1) != IVM_OK)
                    return IVM_NOMEM;
                a->tcap = cap;
            }
            if (!first) {
                memcpy(a->tbuf + out, sep.u.s.p, sep.u.s.n);
                out += sep.u.s.n;
            }
            memcpy(a->tbuf + out, t.u.s.p, t.u.s.n);
            out += t.u.s.n;
            first = false;
        }
    }
    if (concat && !first)
        a->best = ivm_value_text(a->tbuf, (uint32_t)out);
    /* Folded into count, sums and best: a second finish adds nothing. */
    a->nitems = 0;
    a->nbytes = 0;
    return IVM_OK;
}

static double real_total(const agg_acc *a)
{
    double r = a->rsum;
    /* An infinite sum has a NaN compensation: the sum itself is the answer. */
    if (isfinite(r))
        r += a->rcomp;
    return r;
}

/* The aggregate values of a group from its folds; res[] as SQLite gives them
 * (an empty group gives COUNT 0, TOTAL 0.0 and NULL for the others). */
static ivm_rc finish(dbsp_ctx *c, const dbsp_pnode *nd, agg_acc *accs, ivm_value *res)
{
    for (uint32_t k = 0; k < nd->naggs; k++) {
        const dbsp_agg *g = &nd->aggs[k];
        agg_acc *a = &accs[k];
        ivm_value *r = &res[k];
        if ((g->flags & DBSP_AGG_F_DISTINCT) || g->kind == DBSP_AGG_GROUP_CONCAT) {
            ivm_rc rc = finish_collection(c, g, a);
            if (rc != IVM_OK)
                return rc;
        }
        switch (g->kind) {
        case DBSP_AGG_COUNT_STAR:
        case DBSP_AGG_COUNT:
            *r = ivm_value_int(a->count);
            break;
        case DBSP_AGG_SUM:
            if (a->count == 0) {
                *r = ivm_value_null();
            } else if (a->real) {
                double t = (double)a->isum + real_total(a);
                *r = isnan(t) ? ivm_value_null() : ivm_value_real(t);
            } else if (a->isum > INT64_MAX || a->isum < INT64_MIN) {
                return ivm_err_set(&c->err, IVM_INVALID, 0, 0, "integer overflow");
            } else {
                *r = ivm_value_int((int64_t)a->isum);
            }
            break;
        case DBSP_AGG_TOTAL: {
            double t = a->real ? (double)a->isum + real_total(a) : (double)a->isum;
            *r = isnan(t) ? ivm_value_null() : ivm_value_real(t);
            break;
        }
        case DBSP_AGG_AVG:
            if (a->count == 0) {
                *r = ivm_value_null();
            } else {
                double t = a->real ? (double)a->isum + real_total(a) : (double)a->isum;
                t /= (double)a->count;
                *r = isnan(t) ? ivm_value_null() : ivm_value_real(t);
            }
            break;
        case DBSP_AGG_GROUP_CONCAT:
            *r = a->count > 0 ? a->best : ivm_value_null();
            break;
        default: /* MIN, MAX */
            *r = a->has_best ? a->best : ivm_value_null();
            break;
        }
    }
    return IVM_OK;
}

static void acc_reset(agg_acc *accs, uint32_t naggs)
{
    for (uint32_t k = 0; k < naggs; k++) {
        agg_acc *a = &accs[k];
        agg_acc keep = *a;
        memset(a, 0, sizeof *a);
        /* Buffers stay for the next group. */
        a->tbuf = keep.tbuf;
        a->tcap = keep.tcap;
        a->items = keep.items;
        a->icap = keep.icap;
        a->bytes = keep.bytes;
        a->bcap = keep.bcap;
    }
}

/* Finishes the fold in accs and encodes it into *buf; *len_out is its
 * length. */
static ivm_rc encode_group(dbsp_ctx *c, const dbsp_pnode *nd, aggregate_state *s, agg_acc *accs,
                           uint8_t **buf, size_t *cap, size_t *len_out)
{
    ivm_rc rc = finish(c, nd, accs, s->res);
    if (rc != IVM_OK)
        return rc;
    size_t len = spine_row_size(s->res, nd->naggs);
    if (len > *cap && ivm_grow((void **)buf, cap, len, 1) != IVM_OK)
        return IVM_NOMEM;
    spine_row_encode(s->res, nd->naggs, *buf);
    *len_out = len;
    return IVM_OK;
}

static ivm_rc decode_val(dbsp_ctx *c, const dbsp_pnode *nd, uint32_t in_cols, aggregate_state *s,
                         const uint8_t *val, size_t vlen)
{
    uint32_t nv = in_cols - nd->nkey;
    if (spine_row_decode(val, vlen, s->vals + nd->nkey, nv) != (int)nv)
        return ivm_err_set(&c->err, IVM_CORRUPT, 0, 0, "aggregate: bad row encoding");
    return IVM_OK;
}

/* A merge by value of the values a cursor stands on (those of the key an
 * exact seek found, if found) with dx's rows j .. hi of the same key, each
 * value once, with its weight in the cursor plus sign times its weight in
 * dx: sign -1 gives a group's rows before a step from the integral after
 * it, +1 its rows after the step from rows kept before it. */
typedef struct val_merge {
    spine_cursor *in;
    bool found;
    const spine_batch *dx;
    size_t j, hi;
    int sign;
    const uint8_t *v; /* the value last given (valid while the cursor lives) */
    size_t vl;
    int64_t w;        /* its weight, never 0 */
} val_merge;

/* Moves the merge to its next value of non-zero weight: 1, or 0 when both
 * sides are done, or -1 with c's error set if a weight overflowed. */
static int val_merge_next(dbsp_ctx *c, val_merge *m)
{
    for (;;) {
        bool have_i = m->found && spine_cursor_val_valid(m->in), have_d = m->j < m->hi;
        if (!have_i && !have_d)
            return 0;
        size_t il = 0, dl = 0;
        const uint8_t *iv = have_i ? spine_cursor_val(m->in, &il) : NULL;
        const uint8_t *dv = have_d ? spine_batch_val(m->dx, m->j, &dl) : NULL;
        int cmp = !have_i ? 1 : !have_d ? -1 : spine_row_cmp(iv, il, dv, dl);
        int64_t w = 0;
        m->v = cmp <= 0 ? iv : dv;
        m->vl = cmp <= 0 ? il : dl;
        if (cmp <= 0) {
            w = spine_cursor_weight(m->in);
            spine_cursor_step_val(m->in);
        }
        if (cmp >= 0) {
            int64_t d = m->dx->w[m->j++];
            if (m->sign > 0 ? __builtin_add_overflow(w, d, &w) : __builtin_sub_overflow(w, d, &w)) {
                ivm_err_set(&c->err, IVM_INVALID, 0, 0, "aggregate: weight overflow");
                return -1;
            }
        }
        if (w != 0) {
            m->w = w;
            return 1;
        }
    }
}

/* Group `key` after this step (new) and before it (old), from one seek in
 * the integral: new folds I(x)'s rows; old folds the same rows merged with
 * dx's rows of the group dx[lo, hi), each with weight w_I - w_dx, which is
 * the group's contents before the step (D2).  Both folds meet the rows in
 * the same (value) order, so a group with the same rows gives the same
 * bytes, as the last step emitted them.  *nlen_out / *olen_out are the rows'
 * lengths (s->row, s->orow), or SIZE_MAX when the group does not exist. */
static ivm_rc group_rows(dbsp_ctx *c, const dbsp_pnode *nd, uint32_t in_cols, aggregate_state *s,
                         spine_cursor *in, const spine_batch *dx, size_t lo, size_t hi,
                         bool old_global, const uint8_t *key, size_t klen, size_t *nlen_out,
                         size_t *olen_out)
{
    acc_reset(s->acc, nd->naggs);
    bool found = dbsp_cursor_seek_exact(in, key, klen);
    if (spine_row_decode(key, klen, s->vals, nd->nkey) != (int)nd->nkey)
        return ivm_err_set(&c->err, IVM_CORRUPT, 0, 0, "aggregate: bad key encoding");
    ivm_rc rc = IVM_OK;
    /* The new row: the one global group always exists (D9). */
    *nlen_out = SIZE_MAX;
    if (found) {
        for (; spine_cursor_val_valid(in) && rc == IVM_OK; spine_cursor_step_val(in)) {
            size_t vlen;
            const uint8_t *val = spine_cursor_val(in, &vlen);
            rc = decode_val(c, nd, in_cols, s, val, vlen);
            if (rc == IVM_OK)
                rc = fold(nd, s, s->vals, spine_cursor_weight(in));
        }
    }
    if (rc == IVM_OK && (found || nd->nkey == 0))
        rc = encode_group(c, nd, s, s->acc, &s->row, &s->row_cap, nlen_out);
    if (rc != IVM_OK)
        return rc;
    /* The old row: a merge of the group's rows in I and in dx, by value. */
    acc_reset(s->acc, nd->naggs);
    bool existed = old_global;
    if (found)
        spine_cursor_rewind_vals(in);
    val_merge m = {.in = in, .found = found, .dx = dx, .j = lo, .hi = hi, .sign = -1};
    int got;
    while ((got = val_merge_next(c, &m)) > 0) {
        existed = true;
        if ((rc = decode_val(c, nd, in_cols, s, m.v, m.vl)) != IVM_OK ||
            (rc = fold(nd, s, s->vals, m.w)) != IVM_OK)
            return rc;
    }
    if (got < 0)
        return c->err.rc;
    *olen_out = SIZE_MAX;
    if (existed)
        rc = encode_group(c, nd, s, s->acc, &s->orow, &s->orow_cap, olen_out);
    return rc;
}

/* Brings group `key`'s output up to date: -old +new when they differ, in
 * (key, value) order so that the builder stays sorted.  dx[lo, hi) are the
 * group's rows of this step's delta. */
static ivm_rc update_group(dbsp_ctx *c, const dbsp_pnode *nd, uint32_t in_cols,
                           aggregate_state *s, spine_cursor *in, const spine_batch *dx, size_t lo,
                           size_t hi, bool old_global, const uint8_t *key, size_t klen)
{
    size_t nlen = SIZE_MAX, olen = SIZE_MAX;
    ivm_rc rc = group_rows(c, nd, in_cols, s, in, dx, lo, hi, old_global, key, klen, &nlen,
                           &olen);
    if (rc != IVM_OK)
        return rc;
    bool has_new = nlen != SIZE_MAX, has_old = olen != SIZE_MAX;
    if (!has_old && !has_new)
        return IVM_OK;
    const uint8_t *ov = s->orow;
    int cmp = !has_old ? 1 : !has_new ? -1 : spine_row_cmp(ov, olen, s->row, nlen);
    if (cmp == 0)
        return IVM_OK;
    spine_builder *b = &c->bld;
    if (cmp < 0) {
        rc = spine_builder_push(b, key, klen, ov, olen, -1);
        if (rc == IVM_OK && has_new)
            rc = spine_builder_push(b, key, klen, s->row, nlen, 1);
    } else {
        rc = spine_builder_push(b, key, klen, s->row, nlen, 1);
        if (rc == IVM_OK && has_old)
            rc = spine_builder_push(b, key, klen, ov, olen, -1);
    }
    return rc;
}

/* ---- Group states (D8) ----------------------------------------------------- */

/* Encodes total and the finished accumulators accs as a group's state row
 * into *buf (layout: SLOTS_*); *len_out is its length. */
static ivm_rc state_encode(const dbsp_pnode *nd, aggregate_state *s, const agg_acc *accs,
                           int64_t total, uint8_t **buf, size_t *cap, size_t *len_out)
{
    ivm_value *sv = s->sv;
    uint32_t n = 0;
    sv[n++] = ivm_value_int(total);
    for (uint32_t k = 0; k < nd->naggs; k++) {
        const dbsp_agg *g = &nd->aggs[k];
        const agg_acc *a = &accs[k];
        if (g->kind == DBSP_AGG_MIN || g->kind == DBSP_AGG_MAX) {
            sv[n++] = ivm_value_int(a->unclean ? SF_UNCLEAN : 0);
            sv[n++] = a->has_best ? a->best : ivm_value_null();
        } else if (is_sum(g->kind)) {
            unsigned __int128 u = (unsigned __int128)a->isum;
            sv[n++] = ivm_value_int(a->count);
            sv[n++] = ivm_value_int((int64_t)(uint64_t)u);
            sv[n++] = ivm_value_int((int64_t)(uint64_t)(u >> 64));
            sv[n++] = ivm_value_int((a->real ? SF_REAL : 0) | (a->seen_real ? SF_SEEN_REAL : 0));
            if (a->real) {
                /* As bits: a REAL column would turn NaN into NULL. */
                int64_t b;
                memcpy(&b, &a->rsum, sizeof b);
                sv[n++] = ivm_value_int(b);
                memcpy(&b, &a->rcomp, sizeof b);
                sv[n++] = ivm_value_int(b);
            }
        } else {
            sv[n++] = ivm_value_int(a->count);
        }
    }
    size_t len = spine_row_size(sv, n);
    if (len > *cap && ivm_grow((void **)buf, cap, len, 1) != IVM_OK)
        return IVM_NOMEM;
    spine_row_encode(sv, n, *buf);
    *len_out = len;
    return IVM_OK;
}

/* Decodes a state row into accs (reset by the caller) and *total_out; a
 * best's text is copied, the row's bytes die when the cursor moves. */
static ivm_rc state_decode(dbsp_ctx *c, const dbsp_pnode *nd, aggregate_state *s,
                           const uint8_t *row, size_t len, agg_acc *accs, int64_t *total_out)
{
    uint32_t max = 1 + (SLOTS_SUM + 2) * nd->naggs;
    int got = spine_row_decode(row, len, s->sv, max);
    const ivm_value *sv = s->sv;
    uint32_t n = 0;
#define STATE_INT(dst)                                                      \
    do {                                                                    \
        if ((int)n >= got || sv[n].type != IVM_TINT)                        \
            goto corrupt;                                                   \
        (dst) = sv[n++].u.i;                                                \
    } while (0)
    STATE_INT(*total_out);
    for (uint32_t k = 0; k < nd->naggs; k++) {
        const dbsp_agg *g = &nd->aggs[k];
        agg_acc *a = &accs[k];
        int64_t flags = 0;
        if (g->kind == DBSP_AGG_MIN || g->kind == DBSP_AGG_MAX) {
            STATE_INT(flags);
            a->unclean = (flags & SF_UNCLEAN) != 0;
            if ((int)n >= got)
                goto corrupt;
            if (sv[n].type != IVM_TNULL && keep_best(a, &sv[n]) != IVM_OK)
                return IVM_NOMEM;
            n++;
        } else if (is_sum(g->kind)) {
            int64_t lo, hi;
            STATE_INT(a->count);
            STATE_INT(lo);
            STATE_INT(hi);
            STATE_INT(flags);
            a->isum = (__int128)(((unsigned __int128)(uint64_t)hi << 64) | (uint64_t)lo);
            a->real = (flags & SF_REAL) != 0;
            a->seen_real = (flags & SF_SEEN_REAL) != 0;
            if (a->real) {
                int64_t b;
                STATE_INT(b);
                memcpy(&a->rsum, &b, sizeof b);
                STATE_INT(b);
                memcpy(&a->rcomp, &b, sizeof b);
            }
        } else {
            STATE_INT(a->count);
        }
    }
#undef STATE_INT
    if ((int)n == got)
        return IVM_OK;
corrupt:
    return ivm_err_set(&c->err, IVM_CORRUPT, 0, 0, "aggregate: bad state encoding");
}

/* A DISTINCT value's canonical form: values equal under dbsp_value_cmp
 * get one encoding, so a REAL with an integral value in range is the INT. */
static ivm_value canonical(const ivm_value *v)
{
    if (v->type == IVM_TREAL) {
        double r = v->u.r;
        if (r >= -9223372036854775808.0 && r < 9223372036854775808.0 && r == (double)(int64_t)r)
            return ivm_value_int((int64_t)r);
    }
    return *v;
}

/* Adds value v (tag, weight w) to the touched group's DISTINCT values. */
static ivm_rc mult_collect(aggregate_state *s, uint32_t slot, const ivm_value *v, int64_t w,
                           uint64_t mask)
{
    ivm_value cv = canonical(v);
    size_t len = spine_row_size(&cv, 1);
    if (s->nmitems == s->micap &&
        ivm_grow((void **)&s->mitems, &s->micap, s->nmitems + 1, sizeof *s->mitems) != IVM_OK)
        return IVM_NOMEM;
    if (s->nmbytes + len > s->mbcap &&
        ivm_grow((void **)&s->mbytes, &s->mbcap, s->nmbytes + len, 1) != IVM_OK)
        return IVM_NOMEM;
    mult_item *it = &s->mitems[s->nmitems++];
    *it = (mult_item){s->slot_ctag[slot], slot, (uint32_t)len, s->nmbytes, w, mask, {0, 0}};
    const uint8_t *b = s->mbytes + s->nmbytes;
    s->nmbytes += spine_value_encode(&cv, s->mbytes + s->nmbytes);
    /* Two big-endian words of the zero-padded bytes: a copy and two
     * loads, not a shift per byte. */
    uint8_t pad[16] = {0};
    memcpy(pad, b, len < sizeof pad ? len : sizeof pad);
    for (int i = 0; i < 2; i++) {
        uint64_t x;
        memcpy(&x, pad + 8 * i, sizeof x);
        it->pfx[i] = __builtin_bswap64(x);
    }
    return IVM_OK;
}

/* Column tag, then value bytes as spine_row_cmp orders them, then slot.
 * Equal zero-padded prefixes of encodings no longer than the prefix mean
 * one encoding is the other's prefix: the shorter comes first. */
static inline int mult_cmp(const mult_item *x, const mult_item *y, const uint8_t *bytes)
{
    if (x->ctag != y->ctag)
        return x->ctag < y->ctag ? -1 : 1;
    for (int i = 0; i < 2; i++)
        if (x->pfx[i] != y->pfx[i])
            return x->pfx[i] < y->pfx[i] ? -1 : 1;
    int c = x->len <= 16 && y->len <= 16
                ? (x->len > y->len) - (x->len < y->len)
                : spine_row_cmp(bytes + x->off, x->len, bytes + y->off, y->len);
    if (c != 0)
        return c;
    return (x->slot > y->slot) - (x->slot < y->slot);
}

static void mult_swap(mult_item *x, mult_item *y)
{
    mult_item t = *x;
    *x = *y;
    *y = t;
}

/* Sorts a touched group's DISTINCT values in place (quicksort, median of
 * three, insertion sort below 16 items; recursion only into the smaller
 * part): the library's qsort_r calls its comparison through a pointer and
 * may allocate a buffer per call, once per touched group. */
static void mult_sort(mult_item *a, size_t n, const uint8_t *bytes)
{
    while (n > 16) {
        size_t m = n / 2;
        if (mult_cmp(&a[m], &a[0], bytes) < 0)
            mult_swap(&a[m], &a[0]);
        if (mult_cmp(&a[n - 1], &a[m], bytes) < 0) {
            mult_swap(&a[n - 1], &a[m]);
            if (mult_cmp(&a[m], &a[0], bytes) < 0)
                mult_swap(&a[m], &a[0]);
        }
        /* a[0] <= a[m] <= a[n - 1]: the pivot, kept at a[n - 2]. */
        mult_swap(&a[m], &a[n - 2]);
        const mult_item *pv = &a[n - 2];
        size_t i = 0, j = n - 2;
        for (;;) {
            while (mult_cmp(&a[++i], pv, bytes) < 0)
                ;
            while (mult_cmp(pv, &a[--j], bytes) < 0)
                ;
            if (i >= j)
                break;
            mult_swap(&a[i], &a[j]);
        }
        mult_swap(&a[i], &a[n - 2]);
        /* a[0 .. i) <= a[i] <= a[i + 1 .. n) */
        if (i < n - 1 - i) {
            mult_sort(a, i, bytes);
            a += i + 1;
            n -= i + 1;
        } else {
            mult_sort(a + i + 1, n - 1 - i, bytes);
            n = i;
        }
    }
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && mult_cmp(&a[j], &a[j - 1], bytes) < 0; j--)
            mult_swap(&a[j], &a[j - 1]);
}

/* From this many items on, a touched group's values are radix-sorted:
 * a quicksort's n log n comparisons and moves of whole items grew with
 * the group (Nexmark q15 has one group, 18,000 items a step). */
#define MULT_RADIX_MIN 64

/* Byte d (0 the most significant) of an item's radix key: its column
 * tag, its two prefix words, its slot, each big-endian. */
static inline unsigned mult_byte(const mult_item *it, unsigned d)
{
    if (d < 4)
        return (unsigned)(it->ctag >> (8 * (3 - d))) & 0xff;
    if (d < 12)
        return (unsigned)(it->pfx[0] >> (8 * (11 - d))) & 0xff;
    if (d < 20)
        return (unsigned)(it->pfx[1] >> (8 * (19 - d))) & 0xff;
    return (unsigned)(it->slot >> (8 * (23 - d))) & 0xff;
}

/* Sorts the touched group's items as mult_sort does, for many items: an
 * LSD radix sort by (column tag, prefix words, slot), one stable counting
 * pass per key byte that differs among them (most do not: the tags, the
 * high bytes of small INTs), then mult_cmp only within runs of equal
 * prefixes that it cannot order alone (an encoding over 16 bytes, or two
 * of different lengths), by insertion, which keeps their slots' order. */
static ivm_rc mult_radix(aggregate_state *s)
{
    size_t n = s->nmitems;
    if (n > s->mtcap && ivm_grow((void **)&s->mtmp, &s->mtcap, n, sizeof *s->mtmp) != IVM_OK)
        return IVM_NOMEM;
    mult_item *src = s->mitems, *dst = s->mtmp;
    uint64_t vc = 0, v0 = 0, v1 = 0, vs = 0;
    for (size_t i = 1; i < n; i++) {
        vc |= src[i].ctag ^ src[0].ctag;
        v0 |= src[i].pfx[0] ^ src[0].pfx[0];
        v1 |= src[i].pfx[1] ^ src[0].pfx[1];
        vs |= src[i].slot ^ src[0].slot;
    }
    for (unsigned d = 24; d-- > 0;) {
        uint64_t vary = d < 4 ? vc >> (8 * (3 - d)) : d < 12 ? v0 >> (8 * (11 - d))
                      : d < 20 ? v1 >> (8 * (19 - d)) : vs >> (8 * (23 - d));
        if ((vary & 0xff) == 0)
            continue;
        size_t cnt[256] = {0};
        for (size_t i = 0; i < n; i++)
            cnt[mult_byte(&src[i], d)]++;
        size_t sum = 0;
        for (unsigned v = 0; v < 256; v++) {
            size_t c = cnt[v];
            cnt[v] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[cnt[mult_byte(&src[i], d)]++] = src[i];
        mult_item *t = src;
        src = dst;
        dst = t;
    }
    if (src != s->mitems)
        memcpy(s->mitems, src, n * sizeof *src);
    mult_item *a = s->mitems;
    for (size_t i = 0; i < n;) {
        size_t e = i + 1;
        bool cmp = a[i].len > 16;
        while (e < n && a[e].ctag == a[i].ctag && a[e].pfx[0] == a[i].pfx[0] &&
               a[e].pfx[1] == a[i].pfx[1]) {
            cmp |= a[e].len > 16 || a[e].len != a[i].len;
            e++;
        }
        for (size_t k = i + 1; cmp && k < e; k++)
            for (size_t j = k; j > i && mult_cmp(&a[j], &a[j - 1], s->mbytes) < 0; j--)
                mult_swap(&a[j], &a[j - 1]);
        i = e;
    }
    return IVM_OK;
}

/* Same column tag and value: one key of mult. */
static bool mult_same_key(const mult_item *x, const mult_item *y, const uint8_t *bytes)
{
    return x->ctag == y->ctag &&
           spine_row_cmp(bytes + x->off, x->len, bytes + y->off, y->len) == 0;
}

/* Folds a MIN or MAX over one row of dx (value v, weight w) into a, or
 * sets *need when only a recompute can say (D8). */
static ivm_rc minmax_delta(const dbsp_agg *g, agg_acc *a, const ivm_value *v, int64_t w,
                           bool *need)
{
    int cmp = a->has_best ? dbsp_value_cmp(v, &a->best) : 0;
    bool better = !a->has_best || (g->kind == DBSP_AGG_MIN ? cmp < 0 : cmp > 0);
    if (w < 0) {
        /* Only a value strictly worse than the best (or no best at all)
         * leaves it as it is; the row may now weigh less than zero. */
        if (a->has_best && (better || cmp == 0))
            *need = true;
        else
            a->unclean = true;
        return IVM_OK;
    }
    if (better) {
        /* The new value counts only if its row now weighs more than zero,
         * which is known while no row of the group weighs less. */
        if (a->unclean) {
            *need = true;
            return IVM_OK;
        }
        return keep_best(a, v);
    }
    /* Equal values of two classes (1 and 1.0): which one is the best
     * depends on the order of the group's rows. */
    if (cmp == 0 && v->type != a->best.type)
        *need = true;
    return IVM_OK;
}

/* Folds one row of dx (weight w) into the touched group's accumulators;
 * *need is set when the group must be recomputed (D8). */
static ivm_rc fold_delta(const dbsp_pnode *nd, aggregate_state *s, const ivm_value *vals,
                         int64_t w, bool *need)
{
    s->total += w;
    if (s->nslots > 0)
        memset(s->wmask, 0, s->nslots * sizeof *s->wmask);
    for (uint32_t k = 0; k < nd->naggs; k++) {
        const dbsp_agg *g = &nd->aggs[k];
        agg_acc *a = &s->acc[k];
        const ivm_value *v = agg_arg(g, a, vals, w);
        if (v == NULL)
            continue;
        ivm_rc rc = IVM_OK;
        if (g->kind == DBSP_AGG_MIN || g->kind == DBSP_AGG_MAX) {
            rc = minmax_delta(g, a, v, w, need);
        } else if (s->dtag[k] != UINT32_MAX) {
            /* A REAL summand: canonical() would make 1.0 the INT 1.  Once
             * the group holds a REAL, an INT 1 beside a REAL 1.0 is the
             * value that counts and the REAL the one left when it goes
             * (the INT comes first, D8). */
            if (is_sum(g->kind) && v->type == IVM_TREAL)
                a->seen_real = true;
            if (is_sum(g->kind) && a->seen_real)
                *need = true;
            if (s->dtag[k] == k)
                s->wmask[s->slot_of[k]] |= (uint64_t)1 << s->bit_of[k];
        } else {
            a->count += w;
            if (is_sum(g->kind)) {
                ivm_value x = *v;
                if (x.type == IVM_TTEXT)
                    x = dbsp_value_sum_numeric(&x);
                if (x.type == IVM_TINT)
                    a->isum += (__int128)x.u.i * w;
                else
                    *need = true; /* a REAL sum cannot be taken back exactly */
            }
        }
        if (rc != IVM_OK)
            return rc;
    }
    /* One value per column tag, whatever the number of its filters. */
    for (uint32_t i = 0; i < s->nslots; i++) {
        if (s->wmask[i] == 0)
            continue;
        ivm_rc rc = mult_collect(s, i, &vals[nd->aggs[s->slot_ctag[i]].col], w, s->wmask[i]);
        if (rc != IVM_OK)
            return rc;
    }
    return IVM_OK;
}

/* Applies the touched group's DISTINCT values: each one's multiplicities
 * before the step come from one seek in mult (keys ascending: groups, then
 * column tags, then values) and a walk through the key's filter tags; a
 * value that appears or disappears changes the counts and sums of the
 * aggregates of its filter tag.  The multiplicities' change goes to
 * s->mbld. */
static ivm_rc mult_apply(dbsp_ctx *c, const dbsp_pnode *nd, aggregate_state *s, spine_cursor *mc,
                         const uint8_t *key, size_t klen, bool *need)
{
    ivm_rc rc = IVM_OK;
    if (s->nmitems >= MULT_RADIX_MIN)
        rc = mult_radix(s);
    else if (s->nmitems > 1)
        mult_sort(s->mitems, s->nmitems, s->mbytes);
    for (size_t i = 0; i < s->nmitems && rc == IVM_OK;) {
        const mult_item *it = &s->mitems[i];
        size_t e = i + 1;
        while (e < s->nmitems && mult_same_key(&s->mitems[e], it, s->mbytes))
            e++;
        ivm_value ct = ivm_value_int(it->ctag);
        size_t plen = klen + spine_row_size(&ct, 1) + it->len;
        if (plen > s->probe_cap && ivm_grow((void **)&s->probe, &s->probe_cap, plen, 1) != IVM_OK)
            return IVM_NOMEM;
        memcpy(s->probe, key, klen);
        size_t o = klen + spine_value_encode(&ct, s->probe + klen);
        memcpy(s->probe + o, s->mbytes + it->off, it->len);
        bool found = false;
        ivm_value v;
        bool decoded = false;
        /* The weights per filter tag, and the filter tags touched, in
         * ascending order: the items' slots ascend (mult_cmp), and within
         * a slot its bits, as init numbered them.  Only the bits the
         * items carry are visited, not every position of their words. */
        size_t nft = 0;
        for (size_t j = i; j < e;) {
            uint32_t slot = s->mitems[j].slot;
            uint64_t bits = 0;
            for (; j < e && s->mitems[j].slot == slot; j++) {
                bits |= s->mitems[j].mask;
                for (uint64_t m = s->mitems[j].mask; m != 0; m &= m - 1)
                    s->fw[s->slot_ftags[(size_t)slot * 64 + __builtin_ctzll(m)]] +=
                        s->mitems[j].w;
            }
            for (; bits != 0; bits &= bits - 1)
                s->ftv[nft++] = s->slot_ftags[(size_t)slot * 64 + __builtin_ctzll(bits)];
        }
        for (size_t q = 0; q < nft && rc == IVM_OK; q++) {
            uint32_t ftag = s->ftv[q];
            int64_t w = s->fw[ftag];
            s->fw[ftag] = 0;
            if (w == 0)
                continue;
            if (!decoded) {
                found = dbsp_cursor_seek_exact(mc, s->probe, plen);
                if (spine_row_decode(s->mbytes + it->off, it->len, &v, 1) != 1)
                    return ivm_err_set(&c->err, IVM_CORRUPT, 0, 0, "aggregate: bad value encoding");
                if (v.type == IVM_TTEXT)
                    v = dbsp_value_sum_numeric(&v);
                decoded = true;
            }
            uint8_t fb[16];
            ivm_value fv = ivm_value_int(ftag);
            size_t fl = spine_value_encode(&fv, fb);
            int64_t m_old = 0, m_new;
            /* The key's values (filter tags) ascend, as ours do. */
            for (; found && spine_cursor_val_valid(mc); spine_cursor_step_val(mc)) {
                size_t cl;
                const uint8_t *cv = spine_cursor_val(mc, &cl);
                int cmp = spine_row_cmp(cv, cl, fb, fl);
                if (cmp == 0)
                    m_old = spine_cursor_weight(mc);
                if (cmp >= 0)
                    break;
            }
            if (__builtin_add_overflow(m_old, w, &m_new))
                return ivm_err_set(&c->err, IVM_INVALID, 0, 0, "aggregate: weight overflow");
            rc = spine_builder_push(&s->mbld, s->probe, plen, fb, fl, w);
            int sign = (m_old <= 0 && m_new > 0) - (m_new <= 0 && m_old > 0);
            for (uint32_t k = 0; sign != 0 && k < nd->naggs; k++) {
                if (s->dtag[k] != ftag)
                    continue;
                agg_acc *a = &s->acc[k];
                a->count += sign;
                if (is_sum(nd->aggs[k].kind)) {
                    if (v.type == IVM_TINT)
                        a->isum += (__int128)v.u.i * sign;
                    else
                        *need = true;
                }
            }
        }
        i = e;
    }
    s->nmitems = 0;
    s->nmbytes = 0;
    return rc;
}

/* dbsp_plan_count: the REAL parts of the sums of a group that still has
 * rows, refolded from its rows with a non-INT summand after this step, the
 * kept ones (cursor *rc_io over s->reals, before this step) merged by value
 * with dx[lo, hi).  Counts and INT sums are exact in the state already;
 * INT summands never touch the REAL part, so this folds the same REAL
 * summands in the same (value) order as a recompute from the integral
 * would, and gives the same bytes (D8). */
static ivm_rc refold_reals(dbsp_ctx *c, const dbsp_pnode *nd, uint32_t in_cols,
                           aggregate_state *s, spine_cursor **rc_io, const spine_batch *dx,
                           size_t lo, size_t hi, const uint8_t *key, size_t klen)
{
    ivm_rc rc = IVM_OK;
    if (*rc_io == NULL) {
        const spine *reals = s->reals;
        if ((rc = spine_cursor_new(&reals, 1, NULL, 0, rc_io)) != IVM_OK)
            return rc;
    }
    for (uint32_t k = 0; k < nd->naggs; k++) {
        if (!is_sum(nd->aggs[k].kind))
            continue;
        s->acc[k].real = false;
        s->acc[k].rsum = s->acc[k].rcomp = 0;
    }
    spine_cursor *in = *rc_io;
    bool found = dbsp_cursor_seek_exact(in, key, klen);
    if (spine_row_decode(key, klen, s->vals, nd->nkey) != (int)nd->nkey)
        return ivm_err_set(&c->err, IVM_CORRUPT, 0, 0, "aggregate: bad key encoding");
    val_merge m = {.in = in, .found = found, .dx = dx, .j = lo, .hi = hi, .sign = 1};
    int got;
    while ((got = val_merge_next(c, &m)) > 0) {
        if ((rc = decode_val(c, nd, in_cols, s, m.v, m.vl)) != IVM_OK)
            return rc;
        for (uint32_t k = 0; k < nd->naggs; k++) {
            const dbsp_agg *g = &nd->aggs[k];
            if (!is_sum(g->kind) ||
                ((g->flags & DBSP_AGG_F_FILTER) &&
                 dbsp_value_truth(&s->vals[g->filter_col]) != 1))
                continue;
            /* As fold: NULL adds nothing; INT is in the state already. */
            ivm_value x = s->vals[g->col];
            if (x.type == IVM_TNULL)
                continue;
            if (x.type == IVM_TTEXT)
                x = dbsp_value_sum_numeric(&x);
            if (x.type != IVM_TINT)
                sum_value(&s->acc[k], &x, m.w);
        }
    }
    return got < 0 ? c->err.rc : IVM_OK;
}

/* The group after this step from every row it has in the integral: the
 * recompute path (D8).  *exists_out: the group has a row. */
static ivm_rc recompute(dbsp_ctx *c, const dbsp_pnode *nd, uint32_t in_cols, aggregate_state *s,
                        spine_cursor **in, const spine_batch *dx, size_t lo, size_t hi,
                        const uint8_t *key, size_t klen, bool *exists_out)
{
    ivm_rc rc = IVM_OK;
    if (c->plan->nodes[nd->in[0]].kind != DBSP_INTEGRATE) {
        /* dbsp_plan_count: over a multiset a group whose total is zero has
         * no rows; one with rows is here for a non-INT summand. */
        if (s->total > 0) {
            *exists_out = true;
            return refold_reals(c, nd, in_cols, s, in, dx, lo, hi, key, klen);
        }
        acc_reset(s->acc, nd->naggs);
        s->total = 0;
        *exists_out = false;
        return spine_row_decode(key, klen, s->vals, nd->nkey) == (int)nd->nkey
                   ? IVM_OK
                   : ivm_err_set(&c->err, IVM_CORRUPT, 0, 0, "aggregate: bad key encoding");
    }
    if (*in == NULL) {
        const spine *trace = dbsp_ctx_trace(c, nd->in[0]);
        if ((rc = spine_cursor_new(&trace, 1, NULL, 0, in)) != IVM_OK)
            return rc;
    }
    acc_reset(s->acc, nd->naggs);
    s->total = 0;
    bool found = dbsp_cursor_seek_exact(*in, key, klen);
    if (spine_row_decode(key, klen, s->vals, nd->nkey) != (int)nd->nkey)
        return ivm_err_set(&c->err, IVM_CORRUPT, 0, 0, "aggregate: bad key encoding");
    for (; found && spine_cursor_val_valid(*in) && rc == IVM_OK; spine_cursor_step_val(*in)) {
        size_t vlen;
        const uint8_t *val = spine_cursor_val(*in, &vlen);
        rc = decode_val(c, nd, in_cols, s, val, vlen);
        if (rc == IVM_OK)
            rc = fold(nd, s, s->vals, spine_cursor_weight(*in));
    }
    *exists_out = found;
    return rc;
}

/* Pushes -old +new of one group's (value) rows to b in value order, when
 * they differ; a length of SIZE_MAX is no row. */
static ivm_rc push_change(spine_builder *b, const uint8_t *key, size_t klen, const uint8_t *ov,
                          size_t olen, const uint8_t *nv, size_t nlen)
{
    bool has_old = olen != SIZE_MAX, has_new = nlen != SIZE_MAX;
    if (!has_old && !has_new)
        return IVM_OK;
    int cmp = !has_old ? 1 : !has_new ? -1 : spine_row_cmp(ov, olen, nv, nlen);
    if (cmp == 0)
        return IVM_OK;
    ivm_rc rc;
    if (cmp < 0) {
        rc = spine_builder_push(b, key, klen, ov, olen, -1);
        if (rc == IVM_OK && has_new)
            rc = spine_builder_push(b, key, klen, nv, nlen, 1);
    } else {
        rc = spine_builder_push(b, key, klen, nv, nlen, 1);
        if (rc == IVM_OK && has_old)
            rc = spine_builder_push(b, key, klen, ov, olen, -1);
    }
    return rc;
}

/* Brings group `key` up to date from its state and its rows dx[lo, hi)
 * (D8): output -old +new, state -old +new. */
static ivm_rc update_group_state(dbsp_ctx *c, const dbsp_pnode *nd, uint32_t in_cols,
                                 aggregate_state *s, spine_cursor *sc, spine_cursor *mc,
                                 spine_cursor **in, const spine_batch *dx, size_t lo, size_t hi,
                                 const uint8_t *key, size_t klen)
{
    acc_reset(s->acc, nd->naggs);
    s->total = 0;
    size_t olen = SIZE_MAX, nlen = SIZE_MAX, oslen = SIZE_MAX, nslen = SIZE_MAX;
    const uint8_t *os = NULL;
    ivm_rc rc = IVM_OK;
    if (dbsp_cursor_seek_exact(sc, key, klen) && spine_cursor_val_valid(sc)) {
        os = spine_cursor_val(sc, &oslen);
        if ((rc = state_decode(c, nd, s, os, oslen, s->acc, &s->total)) != IVM_OK ||
            (rc = encode_group(c, nd, s, s->acc, &s->orow, &s->orow_cap, &olen)) != IVM_OK)
            return rc;
    }
    bool need = false;
    for (size_t i = lo; i < hi && rc == IVM_OK; i++) {
        size_t len;
        const uint8_t *row = spine_batch_row(dx, i, &len);
        bool row_need = false;
        rc = dbsp_row_decode(c, row, len, in_cols, s->vals);
        if (rc == IVM_OK)
            rc = fold_delta(nd, s, s->vals, dx->w[i], &row_need);
        /* dbsp_plan_count: only a non-INT summand asks for a recompute;
         * its row is kept for the next one. */
        if (rc == IVM_OK && row_need && s->reals != NULL) {
            const uint8_t *val = spine_batch_val(dx, i, &len);
            rc = spine_builder_push(&s->rbld, key, klen, val, len, dx->w[i]);
        }
        need |= row_need;
    }
    if (rc == IVM_OK && s->nmitems > 0)
        rc = mult_apply(c, nd, s, mc, key, klen, &need);
    if (rc != IVM_OK)
        return rc;
    /* A total of zero or less: the group may have no row left (or rows of
     * opposite weights). */
    bool exists = true;
    if (need || s->total <= 0) {
        rc = recompute(c, nd, in_cols, s, in, dx, lo, hi, key, klen, &exists);
        exists |= nd->nkey == 0; /* D9 */
    }
    if (rc == IVM_OK && exists)
        rc = encode_group(c, nd, s, s->acc, &s->row, &s->row_cap, &nlen);
    if (rc == IVM_OK && exists)
        rc = state_encode(nd, s, s->acc, s->total, &s->sbuf, &s->sbuf_cap, &nslen);
    if (rc == IVM_OK)
        rc = push_change(&c->bld, key, klen, s->orow, olen, s->row, nlen);
    if (rc == IVM_OK)
        rc = push_change(&s->sbld, key, klen, os, oslen, s->sbuf, nslen);
    return rc;
}

/* Finishes a builder of state changes into spine sp (NULL: none kept). */
static ivm_rc state_insert(spine *sp, spine_builder *b, ivm_rc rc)
{
    if (rc != IVM_OK || sp == NULL) {
        spine_builder_clear(b);
        return rc;
    }
    spine_batch *d = NULL;
    if ((rc = spine_builder_finish(b, &d)) != IVM_OK)
        return rc;
    return spine_insert_take(sp, d);
}

static ivm_rc stateful_eval(dbsp_ctx *c, dbsp_node n, aggregate_state *s, spine_batch **out)
{
    /* D5: backpressure; nothing is done before this, so eval can resume. */
    if (!dbsp_ctx_spine_ready(c, s->st) ||
        (s->mult != NULL && !dbsp_ctx_spine_ready(c, s->mult)) ||
        (s->reals != NULL && !dbsp_ctx_spine_ready(c, s->reals)))
        return IVM_PENDING;
    const dbsp_pnode *nd = &c->plan->nodes[n];
    uint32_t in_cols = c->plan->nodes[nd->in[0]].ncols;
    const spine_batch *dx = dbsp_ctx_in(c, n, 0);
    static const uint8_t no_key[1];
    bool owner = nd->nkey == 0 && c->worker == xchg_owner(c->nworkers, no_key, 0);
    bool global_first = !s->started && owner;
    s->started = true;
    if (dx->n == 0 && !global_first) {
        *out = dbsp_ctx_empty(c);
        return IVM_OK;
    }
    const spine *st = s->st, *mult = s->mult;
    spine_cursor *sc = NULL, *mc = NULL, *in = NULL;
    ivm_rc rc = spine_cursor_new(&st, 1, NULL, 0, &sc);
    if (rc == IVM_OK)
        spine_cursor_expect_exact(sc, dx->n); /* a small delta: point reads */
    if (rc == IVM_OK && mult != NULL)
        rc = spine_cursor_new(&mult, 1, NULL, 0, &mc);
    if (rc == IVM_OK && dx->n == 0)
        rc = update_group_state(c, nd, in_cols, s, sc, mc, &in, dx, 0, 0, no_key, 0);
    /* Every group of dx seeks its state: fetch the lines of the next
     * group of seeks first, so that their cache misses overlap (pf:
     * entries covered). */
    for (size_t i = 0, pf = 0; i < dx->n && rc == IVM_OK;) {
        if (i >= pf)
            pf = spine_cursor_prefetch_exact(sc, dx, i);
        size_t klen;
        const uint8_t *key = spine_batch_key(dx, i, &klen);
        size_t e = spine_batch_key_end(dx, i);
        rc = update_group_state(c, nd, in_cols, s, sc, mc, &in, dx, i, e, key, klen);
        i = e;
    }
    spine_cursor_free(sc);
    spine_cursor_free(mc);
    spine_cursor_free(in);
    s->nmitems = 0;
    s->nmbytes = 0;
    rc = state_insert(s->st, &s->sbld, rc);
    rc = state_insert(s->mult, &s->mbld, rc);
    rc = state_insert(s->reals, &s->rbld, rc);
    return dbsp_ctx_build(c, rc, out);
}

static ivm_rc aggregate_eval(dbsp_ctx *c, dbsp_node n, void *state, spine_batch **out)
{
    aggregate_state *s = state;
    if (s->stateful)
        return stateful_eval(c, n, s, out);
    const dbsp_pnode *nd = &c->plan->nodes[n];
    uint32_t in_cols = c->plan->nodes[nd->in[0]].ncols;
    const spine_batch *dx = dbsp_ctx_in(c, n, 0);
    /* D9: the global group lives on the worker that owns the empty key; it
     * existed before this step unless this is the first. */
    static const uint8_t no_key[1];
    bool owner = nd->nkey == 0 && c->worker == xchg_owner(c->nworkers, no_key, 0);
    bool global_first = !s->started && owner;
    bool old_global = s->started && owner;
    s->started = true;
    if (dx->n == 0 && !global_first) {
        *out = dbsp_ctx_empty(c);
        return IVM_OK;
    }
    const spine *trace = dbsp_ctx_trace(c, nd->in[0]);
    spine_cursor *in = NULL;
    ivm_rc rc = spine_cursor_new(&trace, 1, NULL, 0, &in);
    if (rc == IVM_OK)
        spine_cursor_expect_exact(in, dx->n);
    if (rc == IVM_OK && dx->n == 0)
        rc = update_group(c, nd, in_cols, s, in, dx, 0, 0, old_global, no_key, 0);
    /* Every group of dx seeks its rows in the integral: fetch ahead as
     * the stateful path does. */
    for (size_t i = 0, pf = 0; i < dx->n && rc == IVM_OK;) {
        if (i >= pf)
            pf = spine_cursor_prefetch_exact(in, dx, i);
        size_t klen;
        const uint8_t *key = spine_batch_key(dx, i, &klen);
        size_t e = spine_batch_key_end(dx, i);
        rc = update_group(c, nd, in_cols, s, in, dx, i, e, old_global, key, klen);
        i = e;
    }
    spine_cursor_free(in);
    return dbsp_ctx_build(c, rc, out);
}

static void aggregate_fini(void *state)
{
    aggregate_state *s = state;
    ivm_free(s->vals);
    ivm_free(s->res);
    for (uint32_t k = 0; s->acc != NULL && k < s->naggs; k++) {
        ivm_free(s->acc[k].tbuf);
        ivm_free(s->acc[k].items);
        ivm_free(s->acc[k].bytes);
    }
    ivm_free(s->acc);
    ivm_free(s->row);
    ivm_free(s->orow);
    ivm_free(s->dtag);
    ivm_free(s->ctag);
    ivm_free(s->slot_of);
    ivm_free(s->bit_of);
    ivm_free(s->slot_ctag);
    ivm_free(s->slot_ftags);
    ivm_free(s->wmask);
    ivm_free(s->fw);
    ivm_free(s->ftv);
    ivm_free(s->sv);
    ivm_free(s->sbuf);
    ivm_free(s->mitems);
    ivm_free(s->mtmp);
    ivm_free(s->mbytes);
    ivm_free(s->probe);
    spine_free(s->st);
    spine_free(s->mult);
    spine_free(s->reals);
    spine_builder_fini(&s->sbld);
    spine_builder_fini(&s->mbld);
    spine_builder_fini(&s->rbld);
}

static void aggregate_stats(const void *state, spine_stats *acc)
{
    const aggregate_state *s = state;
    spine_stats st;
    if (s->st != NULL) {
        spine_stats_get(s->st, &st);
        dbsp_stats_add(acc, &st);
    }
    if (s->mult != NULL) {
        spine_stats_get(s->mult, &st);
        dbsp_stats_add(acc, &st);
    }
    if (s->reals != NULL) {
        spine_stats_get(s->reals, &st);
        dbsp_stats_add(acc, &st);
    }
}

static ivm_rc aggregate_compact(void *state)
{
    aggregate_state *s = state;
    ivm_rc rc = s->st != NULL ? spine_compact(s->st) : IVM_OK;
    if (rc == IVM_OK && s->mult != NULL)
        rc = spine_compact(s->mult);
    if (rc == IVM_OK && s->reals != NULL)
        rc = spine_compact(s->reals);
    return rc;
}

const dbsp_op_vtab dbsp_op_aggregate_vt = {
    .name = "aggregate",
    .state_desc = "each group's accumulators as a spine by group; multiplicities of DISTINCT "
                  "values by (group, value); without an integral, the rows of non-INT summands",
    .state_size = sizeof(aggregate_state),
    .init = aggregate_init,
    .eval = aggregate_eval,
    .trace = NULL,
    .stats = aggregate_stats,
    .fini = aggregate_fini,
    .compact = aggregate_compact,
};
