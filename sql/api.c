/*
 * api.c: the C input API of ivm.h without SQL text: input handles that push
 * rows into a table's transaction, cursors over a relation's contents, and
 * subscriptions to the deltas each commit makes.  A push is converted and
 * checked at once, against the table as the transaction leaves it plus the
 * pushes staged so far (keeps E1: a failed push changes nothing), and goes
 * into a spine builder in the table's layout (E3); the staged change joins
 * the transaction's pending batches before the next statement, cursor or
 * commit (api_flush), where eng_apply checks it once more.  The engine calls
 * api_commit_done at every commit to hand the views' deltas to subscribers.
 * It does not parse SQL or step circuits; see sql/README.md (the C input
 * API).
 */
#include "engine_int.h"

#include <stdio.h>
#include <strings.h>

/* ---- Staged keys ------------------------------------------------------------------ */

/* What an input has staged since its last flush, per key: the net weight of
 * each whole entry (tag 0), of each PRIMARY KEY value (tag 1) and of each
 * UNIQUE index key (tag 2 + k).  Tags 1 and 2 + k are kept as pushes are
 * staged, since every insert checks them; their key bytes are copied into
 * one growing buffer (kbuf) and slots refer to them by offset.  Tag 0 is
 * read only by deletions (and upserts, which delete), so it is kept lazily:
 * it counts the builder's first `tracked` entries, and whoever reads it
 * first brings it up to the builder (track_staged).  Its slots refer to the
 * entry bytes in the builder itself.  So an insert into a table without a
 * PRIMARY KEY or UNIQUE index touches no slot at all; nothing is allocated
 * per row either way. */
typedef struct kslot {
    uint64_t off;            /* into kbuf, or the builder's data for tag 0;
                                UINT64_MAX: empty slot */
    uint32_t len;
    uint32_t tag;
    int64_t w;               /* net staged weight */
    size_t last;             /* tag 1: 1 + the builder index of the entry last
                                inserted with this key; 0: none */
} kslot;

struct ivm_input {
    ivm_db *db;
    uint32_t rel_id;
    ivm_input *next;
    spine_builder b;         /* the staged change, table layout */
    size_t nstaged;          /* pushes since the last flush */
    size_t tracked;          /* builder entries counted in the tag 0 slots */
    size_t hint;             /* bytes the last flush staged (see push_row) */
    size_t room;             /* free bytes push_row's one-pass encoding asks
                                for: twice the largest entry the general
                                path encoded, at least ROOM_MIN */
    kslot *slots;
    size_t cap, used;
    uint8_t *kbuf;
    size_t kbytes, kcap;
    spine_cursor **cur;      /* [0]: the table, [1 + k]: uniqs[k]; lazily */
    uint32_t ncur;
    ivm_value *vals;         /* ncols scratch values */
    uint8_t *enc, *enc2;     /* encoding scratch */
    size_t enccap, enc2cap;
};

/* The least free space a push asks of the builder before it encodes a row
 * in one pass (push_row). */
#define ROOM_MIN 256

struct ivm_subscription {
    ivm_db *db;
    uint32_t rel_id;
    ivm_delta_fn fn;
    void *arg;
    bool dead;               /* unsubscribed during a callback */
    ivm_subscription *next;
};

struct ivm_cursor {
    spine_batch *rows;       /* whole rows, klen 0 */
    uint32_t ncols;
    char **names;
    ivm_value *vals;
    size_t next;             /* the next entry to read */
    int64_t left;            /* copies of the current entry still to read */
    bool on_row;
    uint64_t count;
};

static uint64_t slot_hash(uint32_t tag, const uint8_t *p, size_t n)
{
    return ivm_hash_bytes(p, n, 0x1234 + tag);
}

static const uint8_t *slot_bytes(const ivm_input *in, const kslot *s)
{
    return (s->tag == 0 ? in->b.data : in->kbuf) + s->off;
}

static kslot *slot_find(ivm_input *in, uint32_t tag, const uint8_t *p, size_t n)
{
    if (in->cap == 0)
        return NULL;
    size_t i = slot_hash(tag, p, n) & (in->cap - 1);
    for (; in->slots[i].off != UINT64_MAX; i = (i + 1) & (in->cap - 1)) {
        kslot *s = &in->slots[i];
        if (s->tag == tag && s->len == n && memcmp(slot_bytes(in, s), p, n) == 0)
            return s;
    }
    return NULL;
}

static ivm_rc slots_grow(ivm_input *in)
{
    size_t cap = in->cap ? in->cap * 2 : 256;
    kslot *ns = ivm_malloc(cap * sizeof *ns);
    if (ns == NULL)
        return IVM_NOMEM;
    for (size_t i = 0; i < cap; i++)
        ns[i].off = UINT64_MAX;
    for (size_t i = 0; i < in->cap; i++) {
        kslot *o = &in->slots[i];
        if (o->off == UINT64_MAX)
            continue;
        size_t j = slot_hash(o->tag, slot_bytes(in, o), o->len) & (cap - 1);
        while (ns[j].off != UINT64_MAX)
            j = (j + 1) & (cap - 1);
        ns[j] = *o;
    }
    ivm_free(in->slots);
    in->slots = ns;
    in->cap = cap;
    return IVM_OK;
}

/* A new slot for (tag, key) with weight 0, the key at off (in kbuf, or the
 * builder's data for tag 0); the caller knows it is not there yet. */
static ivm_rc slot_add(ivm_input *in, uint32_t tag, const uint8_t *p, size_t n, uint64_t off,
                       kslot **out)
{
    if ((in->used + 1) * 2 > in->cap && slots_grow(in) != IVM_OK)
        return IVM_NOMEM;
    size_t i = slot_hash(tag, p, n) & (in->cap - 1);
    while (in->slots[i].off != UINT64_MAX)
        i = (i + 1) & (in->cap - 1);
    in->slots[i] = (kslot){.off = off, .len = (uint32_t)n, .tag = tag};
    in->used++;
    *out = &in->slots[i];
    return IVM_OK;
}

/* The slot of (tag, key), tag > 0, made with weight 0 if it is new. */
static ivm_rc slot_get(ivm_input *in, uint32_t tag, const uint8_t *p, size_t n, kslot **out)
{
    kslot *s = slot_find(in, tag, p, n);
    if (s != NULL) {
        *out = s;
        return IVM_OK;
    }
    if (ivm_grow((void **)&in->kbuf, &in->kcap, in->kbytes + n + 1, 1) != IVM_OK)
        return IVM_NOMEM;
    memcpy(in->kbuf + in->kbytes, p, n);
    ivm_rc rc = slot_add(in, tag, p, n, in->kbytes, out);
    if (rc == IVM_OK)
        in->kbytes += n;
    return rc;
}

/* Brings the tag 0 slots up to the builder: counts the entries staged
 * since the last call.  On failure the slots still count exactly the
 * first `tracked` entries, and the next call goes on from there. */
static ivm_rc track_staged(ivm_input *in)
{
    const spine_builder *b = &in->b;
    for (; in->tracked < b->n; in->tracked++) {
        size_t x = in->tracked;
        const uint8_t *e = b->data + b->off[x];
        size_t len = (size_t)(b->off[x + 1] - b->off[x]);
        kslot *s = slot_find(in, 0, e, len);
        if (s == NULL) {
            ivm_rc rc = slot_add(in, 0, e, len, b->off[x], &s);
            if (rc != IVM_OK)
                return rc;
        }
        s->w += b->w[x];
    }
    return IVM_OK;
}

static int64_t staged(ivm_input *in, uint32_t tag, const uint8_t *p, size_t n)
{
    kslot *s = slot_find(in, tag, p, n);
    return s ? s->w : 0;
}

/* The staged net weight of the whole entry e[0..n). */
static ivm_rc staged_entry(ivm_input *in, const uint8_t *e, size_t n, int64_t *w_out)
{
    ivm_rc rc = track_staged(in);
    if (rc == IVM_OK)
        *w_out = staged(in, 0, e, n);
    return rc;
}

/* Forgets what was staged (after a flush or a rollback). */
static void stage_clear(ivm_input *in)
{
    spine_builder_clear(&in->b);
    in->nstaged = 0;
    in->tracked = 0;
    /* A table grown by one big flush is not walked after every small one. */
    for (size_t i = 0; in->used > 0 && i < in->cap; i++)
        in->slots[i].off = UINT64_MAX;
    in->used = 0;
    in->kbytes = 0;
    for (uint32_t k = 0; k < in->ncur; k++) {
        spine_cursor_free(in->cur[k]);
        in->cur[k] = NULL;
    }
}

/* ---- Input handles ------------------------------------------------------------------ */

static table *input_table(ivm_input *in, ivm_err *err)
{
    relent *r = eng_rel_get(in->db, in->rel_id);
    if (r == NULL || r->t == NULL) {
        ivm_err_set(err, IVM_SCHEMA, 0, 0, "the input's table was dropped");
        return NULL;
    }
    return r->t;
}

ivm_rc ivm_input_open(ivm_db *db, const char *name, ivm_input **out, ivm_err *err)
{
    ivm_err_clear(err);
    if (db == NULL || name == NULL || out == NULL)
        return ivm_err_set(err, IVM_INVALID, 0, 0, "ivm_input_open: NULL argument");
    relent *r = eng_rel_find(db, name);
    if (r == NULL || r->t == NULL)
        return ivm_err_set(err, IVM_SCHEMA, 0, 0,
                           r ? "cannot modify %s because it is a view" : "no such table: %s",
                           name);
    for (ivm_input *o = db->api.inputs; o != NULL; o = o->next)
        if (o->rel_id == r->t->rel.id)
            return ivm_err_set(err, IVM_BUSY, 0, 0, "table %s already has an open input",
                               r->t->name);
    ivm_input *in = ivm_calloc(1, sizeof *in);
    if (in == NULL)
        return ivm_err_set(err, IVM_NOMEM, 0, 0, "out of memory");
    in->db = db;
    in->rel_id = r->t->rel.id;
    in->room = ROOM_MIN;
    spine_builder_init(&in->b);
    /* The batches go to the table's spine, which no exact seek reads (the
     * circuits take the rows again, keys emptied). */
    spine_builder_set_filters(&in->b, false);
    in->ncur = 1 + r->t->nuniqs;
    in->cur = ivm_calloc(in->ncur, sizeof *in->cur);
    in->vals = ivm_calloc(r->t->ncols + 1, sizeof *in->vals);
    if (in->cur == NULL || in->vals == NULL) {
        ivm_input_close(in);
        return ivm_err_set(err, IVM_NOMEM, 0, 0, "out of memory");
    }
    in->next = db->api.inputs;
    db->api.inputs = in;
    *out = in;
    return IVM_OK;
}

static void input_free(ivm_input *in)
{
    for (uint32_t k = 0; k < in->ncur && in->cur != NULL; k++)
        spine_cursor_free(in->cur[k]);
    ivm_free(in->cur);
    spine_builder_fini(&in->b);
    ivm_free(in->slots);
    ivm_free(in->kbuf);
    ivm_free(in->vals);
    ivm_free(in->enc);
    ivm_free(in->enc2);
    ivm_free(in);
}

/* Moves the staged change into the transaction.  The pushes were checked
 * one by one; eng_apply checks the whole change again (keeps E4). */
static ivm_rc input_flush(ivm_input *in, ivm_err *err)
{
    if (in->nstaged == 0)
        return IVM_OK;
    table *t = input_table(in, err);
    if (t == NULL) {
        stage_clear(in);
        return IVM_SCHEMA;
    }
    spine_batch *d = NULL;
    in->hint = in->b.bytes;
    ivm_rc rc = spine_builder_finish(&in->b, &d);
    if (rc == IVM_OK)
        rc = eng_apply(t, d, err);
    stage_clear(in);
    return rc;
}

void ivm_input_close(ivm_input *in)
{
    if (in == NULL)
        return;
    ivm_db *db = in->db;
    ivm_input **pp = &db->api.inputs;
    while (*pp != NULL && *pp != in)
        pp = &(*pp)->next;
    if (*pp == in) {
        /* Its pushes stay in the transaction. */
        ivm_err e;
        ivm_err_clear(&e);
        if (input_flush(in, &e) != IVM_OK)
            eng_discard(db);
        *pp = in->next;
    }
    input_free(in);
}

uint32_t ivm_input_column_count(const ivm_input *in)
{
    relent *r = eng_rel_get(in->db, in->rel_id);
    return r && r->t ? r->t->ncols : 0;
}

const char *ivm_input_column_name(const ivm_input *in, uint32_t col)
{
    relent *r = eng_rel_get(in->db, in->rel_id);
    return r && r->t && col < r->t->ncols ? r->t->col_names[col] : NULL;
}

ivm_type ivm_input_column_type(const ivm_input *in, uint32_t col)
{
    relent *r = eng_rel_get(in->db, in->rel_id);
    return r && r->t && col < r->t->ncols ? r->t->col_types[col] : IVM_TNULL;
}

int ivm_input_column_index(const ivm_input *in, const char *name)
{
    relent *r = eng_rel_get(in->db, in->rel_id);
    for (uint32_t c = 0; r && r->t && c < r->t->ncols; c++)
        if (strcasecmp(r->t->col_names[c], name) == 0)
            return (int)c;
    return -1;
}

const uint32_t *ivm_input_primary_key(const ivm_input *in, uint32_t *n_out)
{
    relent *r = eng_rel_get(in->db, in->rel_id);
    *n_out = r && r->t ? r->t->npk : 0;
    return r && r->t ? r->t->pk : NULL;
}

/* ---- Checking a push ----------------------------------------------------------------- */

/* The cursor of constraint k (0: the table; 1 + j: uniqs[j]) over the
 * committed rows plus the transaction's pending ones. */
static ivm_rc cursor_of(ivm_input *in, const table *t, uint32_t k, spine_cursor **out)
{
    if (in->cur[k] == NULL) {
        ivm_rc rc;
        if (k == 0) {
            rc = eng_table_cursor(t, &in->cur[0]);
        } else {
            const spine *s = t->uniqs[k - 1].data;
            spine_batch *extra = t->uniqs[k - 1].pending;
            rc = spine_cursor_new(&s, 1, &extra, 1, &in->cur[k]);
        }
        if (rc != IVM_OK)
            return rc;
    }
    *out = in->cur[k];
    return IVM_OK;
}

/* Committed + pending weight of key (all its values) or, with val, of the
 * one entry (key, val). */
static int64_t have_weight(spine_cursor *c, const uint8_t *key, size_t klen, const uint8_t *val,
                           size_t vlen, bool match_val)
{
    spine_cursor_seek_key(c, key, klen);
    if (!spine_cursor_key_valid(c))
        return 0;
    size_t ck;
    const uint8_t *cur = spine_cursor_key(c, &ck);
    if (spine_row_cmp(cur, ck, key, klen) != 0)
        return 0;
    int64_t w = 0;
    for (; spine_cursor_val_valid(c); spine_cursor_step_val(c)) {
        if (match_val) {
            size_t cv;
            const uint8_t *v = spine_cursor_val(c, &cv);
            if (spine_row_cmp(v, cv, val, vlen) != 0)
                continue;
        }
        w += spine_cursor_weight(c);
    }
    return w;
}

static ivm_rc scratch(uint8_t **buf, size_t *cap, size_t need)
{
    return ivm_grow((void **)buf, cap, need + 1, 1);
}

/* Encodes the key of index u of row vals into in->enc2; false if NULL. */
static bool uniq_key(ivm_input *in, const uniq *u, const ivm_value *vals, size_t *len,
                     ivm_rc *rc)
{
    size_t n = 0;
    for (uint32_t k = 0; k < u->ncols; k++) {
        if (vals[u->cols[k]].type == IVM_TNULL)
            return false;
        n += spine_row_size(&vals[u->cols[k]], 1);
    }
    if ((*rc = scratch(&in->enc2, &in->enc2cap, n)) != IVM_OK)
        return false;
    size_t o = 0;
    for (uint32_t k = 0; k < u->ncols; k++)
        o += spine_value_encode(&vals[u->cols[k]], in->enc2 + o);
    *len = o;
    return true;
}

static void cols_names(const table *t, const uint32_t *cols, uint32_t n, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < n && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%s.%s", i ? ", " : "", t->name,
                              t->col_names[cols[i]]);
}

/* A row for an error message: (1, 'ann', NULL). */
static void row_text(const ivm_value *vals, uint32_t n, char *buf, size_t cap)
{
    size_t o = (size_t)snprintf(buf, cap, "(");
    for (uint32_t i = 0; i < n && o < cap; i++) {
        const char *sep = i ? ", " : "";
        char num[40];
        switch (vals[i].type) {
        case IVM_TINT:
            o += (size_t)snprintf(buf + o, cap - o, "%s%lld", sep, (long long)vals[i].u.i);
            break;
        case IVM_TREAL:
            ivm_format_real(vals[i].u.r, num, sizeof num);
            o += (size_t)snprintf(buf + o, cap - o, "%s%s", sep, num);
            break;
        case IVM_TTEXT:
            o += (size_t)snprintf(buf + o, cap - o, "%s'%.*s'", sep,
                                  (int)IVM_MIN(vals[i].u.s.n, 40u), vals[i].u.s.p);
            break;
        default:
            o += (size_t)snprintf(buf + o, cap - o, "%sNULL", sep);
        }
    }
    if (o < cap)
        snprintf(buf + o, cap - o, ")");
}

/* Stages the entry ent[0..len) (table layout, key klen bytes) whose row is
 * vals, with weight w, after checking that the table stays a set on its
 * PRIMARY KEY and UNIQUE keys and never holds a negative count (keeps E1:
 * nothing is staged when a check fails).  With `reserved`, ent is space
 * taken by spine_builder_reserve, which this commits; otherwise the entry
 * is copied into the builder. */
static ivm_rc stage_entry(ivm_input *in, table *t, const uint8_t *ent, size_t klen, size_t len,
                          const ivm_value *vals, int64_t w, bool reserved, ivm_err *err)
{
    spine_cursor *c0 = NULL;
    ivm_rc rc = IVM_OK;
    const uint8_t *val = ent + klen;
    size_t vlen = len - klen;
    if (w < 0) {
        int64_t mine = 0;
        if ((rc = cursor_of(in, t, 0, &c0)) != IVM_OK ||
            (rc = staged_entry(in, ent, len, &mine)) != IVM_OK)
            return rc;
        int64_t have = have_weight(c0, ent, klen, val, vlen, true) + mine;
        if (have + w < 0) {
            char row[200];
            row_text(vals, t->ncols, row, sizeof row);
            return ivm_err_set(err, IVM_CONSTRAINT, 0, 0,
                               "cannot delete %s from %s: the table holds %lld of it", row,
                               t->name, (long long)have);
        }
    } else {
        /* An insert into a table without PRIMARY KEY or UNIQUE index needs
         * no check: a multiset takes any number of copies. */
        if (t->npk > 0) {
            if ((rc = cursor_of(in, t, 0, &c0)) != IVM_OK)
                return rc;
            int64_t have = have_weight(c0, ent, klen, NULL, 0, false) + staged(in, 1, ent, klen);
            if (have + w > 1) {
                char names[256];
                cols_names(t, t->pk, t->npk, names, sizeof names);
                return ivm_err_set(err, IVM_CONSTRAINT, 0, 0, "UNIQUE constraint failed: %s",
                                   names);
            }
        }
        for (uint32_t k = 0; k < t->nuniqs; k++) {
            size_t ulen;
            if (!uniq_key(in, &t->uniqs[k], vals, &ulen, &rc)) {
                if (rc != IVM_OK)
                    return rc;
                continue;
            }
            spine_cursor *ck = NULL;
            if ((rc = cursor_of(in, t, 1 + k, &ck)) != IVM_OK)
                return rc;
            int64_t have = have_weight(ck, in->enc2, ulen, NULL, 0, false) +
                           staged(in, 2 + k, in->enc2, ulen);
            if (have + w > 1) {
                char names[256];
                cols_names(t, t->uniqs[k].cols, t->uniqs[k].ncols, names, sizeof names);
                return ivm_err_set(err, IVM_CONSTRAINT, 0, 0, "UNIQUE constraint failed: %s",
                                   names);
            }
        }
    }
    /* Checked: from here on only memory can fail.  Slots first, so that a
     * failure leaves the builder as it was; a new slot of weight 0 is
     * harmless.  Tag 0 is not kept here (track_staged). */
    kslot *s1 = NULL;
    if (t->npk > 0 && (rc = slot_get(in, 1, ent, klen, &s1)) != IVM_OK)
        return rc;
    kslot **us = NULL;
    if (t->nuniqs > 0) {
        us = rt_arena_alloc(&in->db->scratch, sizeof *us * t->nuniqs);
        if (us == NULL)
            return IVM_NOMEM;
        for (uint32_t k = 0; k < t->nuniqs; k++) {
            size_t ulen;
            us[k] = NULL;
            if (uniq_key(in, &t->uniqs[k], vals, &ulen, &rc) &&
                (rc = slot_get(in, 2 + k, in->enc2, ulen, &us[k])) != IVM_OK)
                return rc;
            if (rc != IVM_OK)
                return rc;
        }
    }
    size_t idx = in->b.n;
    rc = reserved ? spine_builder_commit(&in->b, klen, len, w)
                  : spine_builder_push(&in->b, ent, klen, val, vlen, w);
    if (rc != IVM_OK)
        return rc;
    /* slot_get may have grown the table since s1 was found: look it up
     * again. */
    if (t->npk > 0) {
        s1 = slot_find(in, 1, ent, klen);
        s1->w += w;
        if (w > 0)
            s1->last = idx + 1;
    }
    for (uint32_t k = 0; k < t->nuniqs; k++) {
        size_t ulen;
        if (us[k] != NULL && uniq_key(in, &t->uniqs[k], vals, &ulen, &rc))
            slot_find(in, 2 + k, in->enc2, ulen)->w += w;
    }
    in->nstaged++;
    in->db->in_txn = true;
    return IVM_OK;
}

/* Converts row to the table's columns: *vals_out is row itself when every
 * value is of its column's class already (the common case: no copy), else
 * in->vals, a converted copy; *klen_out, *len_out are the key and whole
 * lengths of its entry (table layout, E3). */
static ivm_rc convert_row(ivm_input *in, table *t, const ivm_value *row, uint32_t ncols,
                          const ivm_value **vals_out, size_t *klen_out, size_t *len_out,
                          ivm_err *err)
{
    if (ncols != t->ncols)
        return ivm_err_set(err, IVM_INVALID, 0, 0, "table %s has %u columns but %u values were supplied",
                           t->name, t->ncols, ncols);
    const ivm_value *vals = row;
    size_t rowlen = 0;
    for (uint32_t c = 0; c < ncols; c++) {
        /* A value of the column's own class is stored as it is (its text
         * is checked for NUL as it is encoded, encode_entry): the common
         * case takes this one test. */
        if (row[c].type == t->col_types[c] && row[c].type != IVM_TNULL) {
            rowlen += spine_value_size(&row[c]);
            continue;
        }
        /* Text that coercion reads is checked first. */
        if (row[c].type == IVM_TTEXT && !spine_text_valid(row[c].u.s.p, row[c].u.s.n))
            return ivm_err_set(err, IVM_INVALID, 0, 0, "text for %s.%s holds a NUL byte",
                               t->name, t->col_names[c]);
        if (row[c].type > IVM_TTEXT)
            return ivm_err_set(err, IVM_INVALID, 0, 0, "bad value type %d for %s.%s",
                               (int)row[c].type, t->name, t->col_names[c]);
        /* The first value to convert: from here on the row is a copy. */
        if (vals == row) {
            memcpy(in->vals, row, sizeof *row * ncols);
            vals = in->vals;
        }
        ivm_rc rc = eng_coerce(in->db, t, c, &in->vals[c], err);
        if (rc != IVM_OK)
            return rc;
        rowlen += spine_value_size(&in->vals[c]);
    }
    size_t klen = 0;
    for (uint32_t i = 0; i < t->npk; i++)
        klen += spine_value_size(&vals[t->pk[i]]);
    if (t->npk == 0)
        klen = rowlen;
    *vals_out = vals;
    *klen_out = klen;
    *len_out = klen + (t->npk ? rowlen : 0);
    return IVM_OK;
}

/* Encodes the entry of the converted row vals (convert_row), whose key is
 * klen bytes, at out, checking text for NUL bytes as it copies it (one
 * pass, not a scan and a copy): the column whose text holds one, or
 * UINT32_MAX. */
static uint32_t encode_entry(const table *t, const ivm_value *vals, size_t klen, uint8_t *out)
{
    uint32_t bad = 0;
    if (t->npk > 0) {
        bad = spine_row_encode_checked(vals, t->pk, t->npk, out);
        if (bad != t->npk)
            return t->pk[bad];
        out += klen;
    }
    bad = spine_row_encode_checked(vals, NULL, t->ncols, out);
    return bad != t->ncols ? bad : UINT32_MAX;
}

static ivm_rc push_row(ivm_input *in, const ivm_value *row, uint32_t ncols, int64_t w,
                       ivm_err *err)
{
    ivm_err_clear(err);
    if (w == 0)
        return ivm_err_set(err, IVM_INVALID, 0, 0, "a push needs a weight other than 0");
    if (w > 0 && limit_check_push(in->db, err) != IVM_OK)
        return IVM_NOMEM;
    table *t = input_table(in, err);
    if (t == NULL)
        return IVM_SCHEMA;
    /* A big builder gives its memory back at every flush: the first push
     * after one takes room for as many bytes as the last flush had, at
     * once, rather than doubling up to it.  Only a hint: without the room
     * (an empty builder, so nothing is lost by clearing it) it goes on. */
    if (in->b.n == 0 && in->hint > 0 && spine_builder_reserve(&in->b, in->hint) == NULL)
        spine_builder_clear(&in->b);
    size_t klen, len;
    uint8_t *ent;
    /* The common case: every value of its column's class, no NUL, and the
     * entry fits the builder's free space (room for the largest entry
     * seen, at least): encoded in one pass, key then row (E3), nothing
     * converted or sized first.  Anything else, an error included, takes
     * the general path below from the start, which says what is wrong
     * exactly as before.  Encoded straight into the builder's free space
     * either way: committed there only if the checks pass, so a failed
     * push leaves the builder as it was. */
    if (ncols == t->ncols && (ent = spine_builder_reserve(&in->b, in->room)) != NULL) {
        size_t cap = in->b.data_cap - in->b.bytes, rowlen;
        klen = 0;
        if ((t->npk == 0 || spine_row_encode_as(row, t->pk, t->npk, t->col_types, ent, cap,
                                                &klen)) &&
            spine_row_encode_as(row, NULL, ncols, t->col_types, ent + klen, cap - klen,
                                &rowlen)) {
            len = klen + rowlen;
            if (t->npk == 0)
                klen = len;
            if (w < 0 || t->npk > 0 || t->nuniqs > 0)
                return stage_entry(in, t, ent, klen, len, row, w, true, err);
            /* An insert into a multiset: stage_entry would check nothing
             * and keep no slot (tag 0 is kept lazily); only commit. */
            ivm_rc rc = spine_builder_commit(&in->b, klen, len, w);
            if (rc == IVM_OK) {
                in->nstaged++;
                in->db->in_txn = true;
            }
            return rc;
        }
    }
    const ivm_value *vals;
    ivm_rc rc = convert_row(in, t, row, ncols, &vals, &klen, &len, err);
    if (rc != IVM_OK)
        return rc;
    in->room = IVM_MAX(in->room, 2 * len);
    ent = spine_builder_reserve(&in->b, len);
    if (ent == NULL)
        return IVM_NOMEM;
    uint32_t bad = encode_entry(t, vals, klen, ent);
    if (bad != UINT32_MAX)
        return ivm_err_set(err, IVM_INVALID, 0, 0, "text for %s.%s holds a NUL byte", t->name,
                           t->col_names[bad]);
    return stage_entry(in, t, ent, klen, len, vals, w, true, err);
}

ivm_rc ivm_input_push(ivm_input *in, const ivm_value *row, uint32_t ncols, int64_t w,
                      ivm_err *err)
{
    ivm_rc rc = push_row(in, row, ncols, w, err);
    /* Most pushes take nothing from the scratch arena (only conversions
     * to TEXT and UNIQUE checks do): skip the reset then. */
    if (in->db->scratch.used_total > 0)
        rt_arena_reset(&in->db->scratch);
    return rc;
}

ivm_rc ivm_input_insert(ivm_input *in, const ivm_value *row, uint32_t ncols, ivm_err *err)
{
    return ivm_input_push(in, row, ncols, 1, err);
}

/* The row the table holds now (committed, pending and staged) under
 * PRIMARY KEY key[0..klen), copied into in->enc2 as a table entry; false if
 * none.  The row is the one last staged with that key, if it still counts,
 * or else the committed one: any other staged row with that key was
 * deleted before the last one could be inserted. */
static bool current_row(ivm_input *in, table *t, const uint8_t *key, size_t klen, size_t *len_out,
                        ivm_rc *rc)
{
    spine_cursor *c0 = NULL;
    if ((*rc = cursor_of(in, t, 0, &c0)) != IVM_OK || (*rc = track_staged(in)) != IVM_OK)
        return false;
    kslot *s1 = slot_find(in, 1, key, klen);
    if (s1 != NULL && s1->last > 0) {
        const spine_builder *b = &in->b;
        const uint8_t *e = b->data + b->off[s1->last - 1];
        size_t n = (size_t)(b->off[s1->last] - b->off[s1->last - 1]);
        if (have_weight(c0, e, klen, e + klen, n - klen, true) + staged(in, 0, e, n) > 0) {
            if ((*rc = scratch(&in->enc2, &in->enc2cap, n)) != IVM_OK)
                return false;
            memcpy(in->enc2, e, n);
            *len_out = n;
            return true;
        }
    }
    spine_cursor_seek_key(c0, key, klen);
    if (!spine_cursor_key_valid(c0))
        return false;
    size_t ck;
    const uint8_t *cur = spine_cursor_key(c0, &ck);
    if (spine_row_cmp(cur, ck, key, klen) != 0)
        return false;
    for (; spine_cursor_val_valid(c0); spine_cursor_step_val(c0)) {
        if (spine_cursor_weight(c0) <= 0)
            continue;
        size_t vlen;
        const uint8_t *v = spine_cursor_val(c0, &vlen);
        if ((*rc = scratch(&in->enc2, &in->enc2cap, klen + vlen)) != IVM_OK)
            return false;
        memcpy(in->enc2, key, klen);
        memcpy(in->enc2 + klen, v, vlen);
        if (spine_cursor_weight(c0) + staged(in, 0, in->enc2, klen + vlen) > 0) {
            *len_out = klen + vlen;
            return true;
        }
    }
    return false;
}

/* Stages -1 of the table entry at in->enc2 (copied first: stage_entry uses
 * enc2 for index keys). */
static ivm_rc unstage_current(ivm_input *in, table *t, size_t klen, size_t len, ivm_value *vals,
                              uint8_t **copy_out, ivm_err *err)
{
    uint8_t *copy = rt_arena_alloc(&in->db->scratch, len + 1);
    if (copy == NULL)
        return IVM_NOMEM;
    memcpy(copy, in->enc2, len);
    if (spine_row_decode(copy + klen, len - klen, vals, t->ncols) != (int)t->ncols)
        return IVM_CORRUPT;
    *copy_out = copy;
    return stage_entry(in, t, copy, klen, len, vals, -1, false, err);
}

static ivm_rc need_pk(const table *t, ivm_err *err)
{
    if (t->npk == 0)
        return ivm_err_set(err, IVM_SCHEMA, 0, 0, "table %s has no PRIMARY KEY", t->name);
    return IVM_OK;
}

static ivm_rc delete_key(ivm_input *in, const ivm_value *key, uint32_t nkey, bool *deleted,
                         ivm_err *err)
{
    *deleted = false;
    ivm_err_clear(err);
    table *t = input_table(in, err);
    if (t == NULL)
        return IVM_SCHEMA;
    ivm_rc rc = need_pk(t, err);
    if (rc != IVM_OK)
        return rc;
    if (nkey != t->npk)
        return ivm_err_set(err, IVM_INVALID, 0, 0, "the PRIMARY KEY of %s has %u columns but %u values were supplied",
                           t->name, t->npk, nkey);
    ivm_value *kv = rt_arena_alloc(&in->db->scratch, sizeof *kv * (nkey + 1));
    if (kv == NULL)
        return IVM_NOMEM;
    size_t klen = 0;
    for (uint32_t i = 0; i < nkey; i++) {
        kv[i] = key[i];
        if (key[i].type == IVM_TTEXT && !spine_text_valid(key[i].u.s.p, key[i].u.s.n))
            return ivm_err_set(err, IVM_INVALID, 0, 0, "text for %s.%s holds a NUL byte",
                               t->name, t->col_names[t->pk[i]]);
        if ((rc = eng_coerce(in->db, t, t->pk[i], &kv[i], err)) != IVM_OK)
            return rc;
        klen += spine_row_size(&kv[i], 1);
    }
    if ((rc = scratch(&in->enc, &in->enccap, klen)) != IVM_OK)
        return rc;
    size_t o = 0;
    for (uint32_t i = 0; i < nkey; i++)
        o += spine_value_encode(&kv[i], in->enc + o);
    size_t len;
    if (!current_row(in, t, in->enc, klen, &len, &rc))
        return rc;
    uint8_t *copy;
    rc = unstage_current(in, t, klen, len, in->vals, &copy, err);
    *deleted = rc == IVM_OK;
    return rc;
}

ivm_rc ivm_input_delete(ivm_input *in, const ivm_value *key, uint32_t nkey, bool *deleted_out,
                        ivm_err *err)
{
    bool deleted;
    ivm_rc rc = delete_key(in, key, nkey, &deleted, err);
    rt_arena_reset(&in->db->scratch);
    if (rc == IVM_OK && deleted_out != NULL)
        *deleted_out = deleted;
    return rc;
}

static ivm_rc upsert(ivm_input *in, const ivm_value *row, uint32_t ncols, ivm_err *err)
{
    ivm_err_clear(err);
    if (limit_check_push(in->db, err) != IVM_OK)
        return IVM_NOMEM;
    table *t = input_table(in, err);
    if (t == NULL)
        return IVM_SCHEMA;
    ivm_rc rc = need_pk(t, err);
    size_t klen, len, oldlen;
    const ivm_value *vals = NULL;
    if (rc == IVM_OK)
        rc = convert_row(in, t, row, ncols, &vals, &klen, &len, err);
    if (rc != IVM_OK)
        return rc;
    /* The new entry, kept apart from the scratch that the steps reuse. */
    uint8_t *ent = rt_arena_alloc(&in->db->scratch, len + 1);
    ivm_value *nv = rt_arena_alloc(&in->db->scratch, sizeof *nv * (t->ncols + 1));
    ivm_value *ov = rt_arena_alloc(&in->db->scratch, sizeof *ov * (t->ncols + 1));
    if (ent == NULL || nv == NULL || ov == NULL)
        return IVM_NOMEM;
    uint32_t bad = encode_entry(t, vals, klen, ent);
    if (bad != UINT32_MAX)
        return ivm_err_set(err, IVM_INVALID, 0, 0, "text for %s.%s holds a NUL byte", t->name,
                           t->col_names[bad]);
    memcpy(nv, vals, sizeof *nv * t->ncols);
    uint8_t *old = NULL;
    if (current_row(in, t, ent, klen, &oldlen, &rc)) {
        if (oldlen == len && memcmp(in->enc2, ent, len) == 0)
            return IVM_OK; /* the same row: nothing changes */
        if ((rc = unstage_current(in, t, klen, oldlen, ov, &old, err)) != IVM_OK)
            return rc;
    } else if (rc != IVM_OK) {
        return rc;
    }
    rc = stage_entry(in, t, ent, klen, len, nv, 1, false, err);
    if (rc != IVM_OK && old != NULL) {
        /* Put the old row back: the upsert changes nothing (E1).  It was
         * there a moment ago, so this cannot break a constraint. */
        ivm_err ignored;
        ivm_err_clear(&ignored);
        if (stage_entry(in, t, old, klen, oldlen, ov, 1, false, &ignored) != IVM_OK) {
            /* Out of memory with half an upsert staged: drop the whole
             * transaction rather than keep it. */
            ivm_rollback(in->db);
        }
    }
    return rc;
}

ivm_rc ivm_input_upsert(ivm_input *in, const ivm_value *row, uint32_t ncols, ivm_err *err)
{
    ivm_rc rc = upsert(in, row, ncols, err);
    rt_arena_reset(&in->db->scratch);
    return rc;
}

/* ---- Transactions -------------------------------------------------------------------- */

ivm_rc api_flush(ivm_db *db, ivm_err *err)
{
    ivm_rc rc = IVM_OK;
    for (ivm_input *in = db->api.inputs; in != NULL && rc == IVM_OK; in = in->next)
        rc = input_flush(in, err);
    if (rc != IVM_OK)
        ivm_rollback(db);
    return rc;
}

bool ivm_txn_active(const ivm_db *db)
{
    return db->in_txn;
}

ivm_rc ivm_commit(ivm_db *db, ivm_err *err)
{
    ivm_err_clear(err);
    if (!db->in_txn)
        return IVM_OK;
    ivm_rc rc = api_flush(db, err);
    if (rc != IVM_OK)
        return ivm_err_set(err, rc, 0, 0, "commit failed; the transaction was rolled back");
    return eng_commit(db, err);
}

void ivm_rollback(ivm_db *db)
{
    for (ivm_input *in = db->api.inputs; in != NULL; in = in->next)
        stage_clear(in);
    if (db->in_txn)
        eng_discard(db);
}

/* ---- Cursors ------------------------------------------------------------------------- */

static void cursor_free(ivm_cursor *c)
{
    spine_batch_unref(c->rows);
    for (uint32_t i = 0; c->names != NULL && i < c->ncols; i++)
        ivm_free(c->names[i]);
    ivm_free(c->names);
    ivm_free(c->vals);
    ivm_free(c);
}

ivm_rc ivm_cursor_open(ivm_db *db, const char *name, ivm_cursor **out, ivm_err *err)
{
    ivm_err_clear(err);
    if (db == NULL || name == NULL || out == NULL)
        return ivm_err_set(err, IVM_INVALID, 0, 0, "ivm_cursor_open: NULL argument");
    relent *r = eng_rel_find(db, name);
    if (r == NULL)
        return ivm_err_set(err, IVM_SCHEMA, 0, 0, "no such table or view: %s", name);
    /* The transaction's own pushes are part of what it reads. */
    ivm_rc rc = api_flush(db, err);
    if (rc != IVM_OK)
        return rc;
    const plan_relation *rel = r->t ? &r->t->rel : &r->v->rel;
    ivm_cursor *c = ivm_calloc(1, sizeof *c);
    if (c == NULL)
        return ivm_err_set(err, IVM_NOMEM, 0, 0, "out of memory");
    c->ncols = rel->ncols;
    c->names = ivm_calloc(c->ncols + 1, sizeof *c->names);
    c->vals = ivm_calloc(c->ncols + 1, sizeof *c->vals);
    rc = c->names && c->vals ? IVM_OK : IVM_NOMEM;
    for (uint32_t i = 0; i < c->ncols && rc == IVM_OK; i++)
        if ((c->names[i] = ivm_strndup(rel->col_names[i], strlen(rel->col_names[i]))) == NULL)
            rc = IVM_NOMEM;
    if (rc == IVM_OK)
        rc = eng_rel_contents(db, rel->id, &c->rows, err);
    rt_arena_reset(&db->scratch);
    if (rc != IVM_OK) {
        cursor_free(c);
        return ivm_err_set(err, rc, 0, 0, "%s", ivm_rc_str(rc));
    }
    for (size_t i = 0; i < c->rows->n; i++)
        c->count += c->rows->w[i] > 0 ? (uint64_t)c->rows->w[i] : 0;
    *out = c;
    return IVM_OK;
}

bool ivm_cursor_step(ivm_cursor *c)
{
    const spine_batch *b = c->rows;
    if (c->on_row && c->left > 1) {
        c->left--;
        return true;
    }
    c->on_row = false;
    while (c->next < b->n) {
        size_t i = c->next++;
        if (b->w[i] <= 0)
            continue;
        size_t len;
        const uint8_t *row = spine_batch_row(b, i, &len);
        if (spine_row_decode(row, len, c->vals, c->ncols) != (int)c->ncols)
            continue;
        c->left = b->w[i];
        c->on_row = true;
        return true;
    }
    return false;
}

uint32_t ivm_cursor_column_count(const ivm_cursor *c)
{
    return c->ncols;
}

const char *ivm_cursor_column_name(const ivm_cursor *c, uint32_t col)
{
    return col < c->ncols ? c->names[col] : NULL;
}

const ivm_value *ivm_cursor_row(const ivm_cursor *c)
{
    return c->on_row ? c->vals : NULL;
}

uint64_t ivm_cursor_count(const ivm_cursor *c)
{
    return c->count;
}

void ivm_cursor_close(ivm_cursor *c)
{
    if (c != NULL)
        cursor_free(c);
}

/* ---- Subscriptions ------------------------------------------------------------------- */

ivm_rc ivm_subscribe(ivm_db *db, const char *name, ivm_delta_fn fn, void *arg,
                     ivm_subscription **out, ivm_err *err)
{
    ivm_err_clear(err);
    if (db == NULL || name == NULL || fn == NULL || out == NULL)
        return ivm_err_set(err, IVM_INVALID, 0, 0, "ivm_subscribe: NULL argument");
    relent *r = eng_rel_find(db, name);
    if (r == NULL)
        return ivm_err_set(err, IVM_SCHEMA, 0, 0, "no such view: %s", name);
    ivm_subscription *s = ivm_calloc(1, sizeof *s);
    if (s == NULL)
        return ivm_err_set(err, IVM_NOMEM, 0, 0, "out of memory");
    s->db = db;
    s->rel_id = r->t ? r->t->rel.id : r->v->rel.id;
    s->fn = fn;
    s->arg = arg;
    ivm_subscription **pp = &db->api.subs;
    while (*pp != NULL)
        pp = &(*pp)->next;
    *pp = s;
    *out = s;
    return IVM_OK;
}

void ivm_unsubscribe(ivm_subscription *sub)
{
    if (sub == NULL)
        return;
    ivm_db *db = sub->db;
    if (db->api.notifying) {
        sub->dead = true; /* freed when the callbacks are done */
        return;
    }
    ivm_subscription **pp = &db->api.subs;
    while (*pp != NULL && *pp != sub)
        pp = &(*pp)->next;
    if (*pp == sub)
        *pp = sub->next;
    ivm_free(sub);
}

/* Decodes delta d (whole rows) into vals/weights, deletions first. */
static ivm_rc delta_decode(const spine_batch *d, uint32_t ncols, ivm_value *vals, int64_t *w,
                           size_t *n_out)
{
    size_t n = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < d->n; i++) {
            if ((d->w[i] < 0) != (pass == 0))
                continue;
            size_t len;
            const uint8_t *row = spine_batch_row(d, i, &len);
            if (spine_row_decode(row, len, &vals[n * ncols], ncols) != (int)ncols)
                return IVM_CORRUPT;
            w[n++] = d->w[i];
        }
    }
    *n_out = n;
    return IVM_OK;
}

void api_commit_done(ivm_db *db, uint64_t step_start_ns)
{
    db->api.step_ns = rt_now_ns() - step_start_ns;
    db->api.commits++;
    limit_after_commit(db);
    if (db->api.subs == NULL)
        return;
    db->api.notifying = true;
    ivm_value *vals = NULL;
    int64_t *w = NULL;
    size_t vcap = 0, wcap = 0;
    for (ivm_subscription *s = db->api.subs; s != NULL; s = s->next) {
        relent *r = eng_rel_get(db, s->rel_id);
        if (s->dead || r == NULL)
            continue;
        const spine_batch *d = r->t ? r->t->delta : r->v->delta;
        if (d == NULL || d->n == 0 || (r->v && r->v->broken != IVM_OK))
            continue;
        const plan_relation *rel = r->t ? &r->t->rel : &r->v->rel;
        uint32_t nc = rel->ncols;
        size_t n = 0;
        /* One buffer for the whole commit, grown as needed: not per row. */
        if (ivm_grow((void **)&vals, &vcap, d->n * nc + 1, sizeof *vals) != IVM_OK ||
            ivm_grow((void **)&w, &wcap, d->n + 1, sizeof *w) != IVM_OK ||
            delta_decode(d, nc, vals, w, &n) != IVM_OK)
            continue;
        ivm_delta dl = {.name = rel->name, .commit = db->api.commits, .ncols = nc,
                        .col_names = rel->col_names, .nrows = n, .vals = vals, .weights = w};
        s->fn(s->arg, &dl);
    }
    ivm_free(vals);
    ivm_free(w);
    db->api.notifying = false;
    ivm_subscription **pp = &db->api.subs;
    while (*pp != NULL) {
        ivm_subscription *s = *pp;
        if (s->dead) {
            *pp = s->next;
            ivm_free(s);
        } else {
            pp = &s->next;
        }
    }
}

void ivm_last_commit(const ivm_db *db, ivm_commit_info *out)
{
    out->commit = db->api.commits;
    out->step_ns = db->api.step_ns;
}

void api_close(ivm_db *db)
{
    while (db->api.inputs != NULL) {
        ivm_input *in = db->api.inputs;
        db->api.inputs = in->next;
        input_free(in);
    }
    while (db->api.subs != NULL) {
        ivm_subscription *s = db->api.subs;
        db->api.subs = s->next;
        ivm_free(s);
    }
}
