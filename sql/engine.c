/*
 * engine.c: the engine behind ivm.h.  It keeps the catalog (checked and
 * recorded by an in-memory SQLite database, which never runs a view), the
 * tables' committed rows and a transaction's pending changes, and one dbsp
 * circuit whose segments are the views.  A DML statement computes its whole change first, checks
 * constraints against the state it would produce, and only then adds it to
 * the transaction (keeps E1: a failed statement changes nothing).  COMMIT
 * adds the pending changes to the tables, feeds their deltas to the views
 * reading them and runs one circuit step: one task per worker steps every
 * view touched, in creation order, a view's change flowing to the views
 * reading it on each worker (E2).
 * Ad-hoc SELECTs run the same planner and operators once over the current
 * contents.  See sql/README.md.
 */
#include "engine_int.h"

#include <stdio.h>
#include <strings.h>
#include <unistd.h>
#include <errno.h>

static relent *rel_get(ivm_db *db, uint32_t id)
{
    if (id >= db->nrels || (db->rels[id].t == NULL && db->rels[id].v == NULL))
        return NULL;
    return &db->rels[id];
}

static relent *rel_find(ivm_db *db, const char *name)
{
    for (size_t i = 0; i < db->nrels; i++) {
        relent *r = &db->rels[i];
        const char *n = r->t ? r->t->name : r->v ? r->v->name : NULL;
        if (n != NULL && strcasecmp(n, name) == 0)
            return r;
    }
    return NULL;
}

static const plan_relation *catalog_lookup(void *ctx, const char *name)
{
    relent *r = rel_find(ctx, name);
    if (r == NULL)
        return NULL;
    return r->t ? &r->t->rel : &r->v->rel;
}

static void uniq_fini(uniq *u)
{
    ivm_free(u->name);
    ivm_free(u->cols);
    spine_free(u->data);
    spine_batch_unref(u->pending);
    memset(u, 0, sizeof *u);
}

static void table_free(table *t)
{
    if (t == NULL)
        return;
    for (uint32_t i = 0; i < t->nuniqs; i++)
        uniq_fini(&t->uniqs[i]);
    ivm_free(t->uniqs);
    for (uint32_t i = 0; i < t->ncols; i++) {
        ivm_free(t->col_names ? t->col_names[i] : NULL);
        if (t->defaults)
            dbsp_expr_free(t->defaults[i]);
    }
    ivm_free(t->col_names);
    ivm_free(t->col_types);
    ivm_free(t->decl_types);
    ivm_free(t->not_null);
    ivm_free(t->defaults);
    ivm_free(t->pk);
    spine_free(t->data);
    spine_batch_unref(t->pending);
    spine_batch_unref(t->delta);
    spine_batch_unref(t->entries);
    ivm_free(t->name);
    ivm_free(t);
}

/* Frees v and its segment, with all its operators' state. */
static void view_free(ivm_db *db, view *v)
{
    if (v == NULL)
        return;
    dbsp_circuit_remove(db->circuit, v->seg);
    plan_query_free(v->q);
    spine_batch_unref(v->delta);
    ivm_free(v->name);
    ivm_free(v->sql);
    ivm_free(v);
}

static ivm_rc rel_add(ivm_db *db, table *t, view *v, uint32_t *id_out)
{
    if (ivm_grow((void **)&db->rels, &db->relcap, db->nrels + 1, sizeof *db->rels) != IVM_OK)
        return IVM_NOMEM;
    relent *r = &db->rels[db->nrels];
    r->kind = t ? PLAN_REL_TABLE : PLAN_REL_VIEW;
    r->t = t;
    r->v = v;
    *id_out = (uint32_t)db->nrels++;
    return IVM_OK;
}

/* ---- Opening and closing ------------------------------------------------------ */

static ivm_rc procs_start(ivm_db *db);
static void procs_stop(ivm_db *db);
static void catalog_sync(ivm_db *db);
static void catalog_sync_name(ivm_db *db, const char *name);

ivm_rc ivm_open(const ivm_options *opts, ivm_db **out, ivm_err *err)
{
    uint32_t workers = opts ? opts->workers : 0;
    if (workers == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        workers = n > 0 ? (uint32_t)n : 1;
    }
    if (workers > 256)
        return ivm_err_set(err, IVM_INVALID, 0, 0, "too many workers: %u (at most 256)", workers);
    ivm_db *db = ivm_calloc(1, sizeof *db);
    if (db == NULL)
        return ivm_err_set(err, IVM_NOMEM, 0, 0, "out of memory");
    rt_arena_init(&db->scratch);
    db->mem_limit = opts ? opts->memory_limit : 0;
    db->pcat.ctx = db;
    db->pcat.lookup = catalog_lookup;
    pthread_mutex_init(&db->procs.mu, NULL);
    pthread_cond_init(&db->procs.up, NULL);
    if (sqlite3_open(":memory:", &db->cat) != SQLITE_OK) {
        ivm_close(db);
        return ivm_err_set(err, IVM_INTERNAL, 0, 0, "cannot open the catalog database");
    }
    ivm_rc rc = rt_sched_start(workers, "ivm", &db->sched);
    if (rc != IVM_OK) {
        ivm_close(db);
        return ivm_err_set(err, rc, 0, 0, "cannot start %u worker threads", workers);
    }
    if ((rc = dbsp_circuit_new(db->sched, &db->circuit)) != IVM_OK) {
        ivm_close(db);
        return ivm_err_set(err, rc, 0, 0, "out of memory");
    }
    if ((rc = procs_start(db)) != IVM_OK) {
        ivm_close(db);
        return ivm_err_set(err, rc, 0, 0, "cannot start the engine's processes");
    }
    *out = db;
    return IVM_OK;
}

void ivm_close(ivm_db *db)
{
    if (db == NULL)
        return;
    api_close(db);
    procs_stop(db);
    /* Views before tables: a view's host reads nothing of tables, but
     * dropping in reverse creation order mirrors dependencies. */
    for (size_t i = db->nrels; i-- > 0;) {
        view_free(db, db->rels[i].v);
        table_free(db->rels[i].t);
    }
    ivm_free(db->rels);
    dbsp_circuit_free(db->circuit);
    rt_sched_stop(db->sched);
    if (db->cat)
        sqlite3_close(db->cat);
    pthread_mutex_destroy(&db->procs.mu);
    pthread_cond_destroy(&db->procs.up);
    rt_arena_fini(&db->scratch);
    ivm_free(db);
}

bool ivm_complete(const char *sql, size_t len)
{
    return sql_complete(sql, len);
}

/* ---- The SQLite catalog ------------------------------------------------------- */

/* Runs a DDL statement's text in SQLite inside a savepoint, as a second
 * opinion on names and syntax.  The savepoint is released by catalog_done. */
static ivm_rc catalog_try(ivm_db *db, const plan_stmt *st, ivm_err *err)
{
    char *text = ivm_strndup(st->text, st->text_len);
    if (text == NULL)
        return IVM_NOMEM;
    pthread_mutex_lock(&db->procs.mu); /* until catalog_done */
    snprintf(db->procs.ddl_name, sizeof db->procs.ddl_name, "%s", st->name ? st->name : "");
    sqlite3_exec(db->cat, "SAVEPOINT ddl", NULL, NULL, NULL);
    char *msg = NULL;
    int src = sqlite3_exec(db->cat, text, NULL, NULL, &msg);
    ivm_free(text);
    if (src != SQLITE_OK) {
        ivm_err_set(err, IVM_SCHEMA, st->pos.line, st->pos.col, "%s",
                    msg ? msg : sqlite3_errstr(src));
        sqlite3_free(msg);
        sqlite3_exec(db->cat, "ROLLBACK TO ddl; RELEASE ddl", NULL, NULL, NULL);
        pthread_mutex_unlock(&db->procs.mu);
        return IVM_SCHEMA;
    }
    return IVM_OK;
}

static void catalog_done(ivm_db *db, bool keep)
{
    if (!keep)
        sqlite3_exec(db->cat, "ROLLBACK TO ddl", NULL, NULL, NULL);
    sqlite3_exec(db->cat, "RELEASE ddl", NULL, NULL, NULL);
    if (keep)
        catalog_sync_name(db, db->procs.ddl_name);
    pthread_mutex_unlock(&db->procs.mu);
}

/* ---- Row helpers ---------------------------------------------------------------- */

/* Appends a table row (ncols values, already of the columns' classes) to b
 * in the table's storage layout. */
static ivm_rc push_table_row(const table *t, const ivm_value *vals, spine_builder *b, int64_t w)
{
    size_t rowlen = spine_row_size(vals, t->ncols);
    size_t klen = 0;
    for (uint32_t i = 0; i < t->npk; i++)
        klen += spine_row_size(&vals[t->pk[i]], 1);
    if (t->npk == 0)
        klen = rowlen;
    uint8_t *p = spine_builder_reserve(b, klen + (t->npk ? rowlen : 0));
    if (p == NULL)
        return IVM_NOMEM;
    uint8_t *q = p;
    for (uint32_t i = 0; i < t->npk; i++)
        q += spine_value_encode(&vals[t->pk[i]], q);
    if (t->npk)
        spine_row_encode(vals, t->ncols, q);
    else
        spine_row_encode(vals, t->ncols, p);
    return spine_builder_commit(b, klen, klen + (t->npk ? rowlen : 0), w);
}

/* The row bytes of a table entry read through a cursor. */
static const uint8_t *table_entry_row(const table *t, spine_cursor *c, size_t *len)
{
    if (t->npk)
        return spine_cursor_val(c, len);
    return spine_cursor_key(c, len);
}

static ivm_rc table_cursor(const table *t, spine_cursor **out)
{
    const spine *s = t->data;
    spine_batch *extra = t->pending;
    return spine_cursor_new(&s, 1, &extra, 1, out);
}

/* A batch of input rows (klen 0) holding a table's current contents,
 * including the open transaction's changes. */
static ivm_rc table_contents(const table *t, spine_batch **out)
{
    spine_cursor *c = NULL;
    ivm_rc rc = table_cursor(t, &c);
    if (rc != IVM_OK)
        return rc;
    spine_builder b;
    spine_builder_init(&b);
    /* With a PK the rows come in key order, not row order: finish sorts
     * them (the builder notices which). */
    for (; rc == IVM_OK && spine_cursor_key_valid(c); spine_cursor_step_key(c)) {
        for (; rc == IVM_OK && spine_cursor_val_valid(c); spine_cursor_step_val(c)) {
            size_t len;
            const uint8_t *row = table_entry_row(t, c, &len);
            rc = spine_builder_push(&b, NULL, 0, row, len, spine_cursor_weight(c));
        }
    }
    spine_cursor_free(c);
    if (rc == IVM_OK)
        rc = spine_builder_finish(&b, out);
    spine_builder_fini(&b);
    return rc;
}

/* Input rows (klen 0) from a batch in a table's storage layout.  Without a
 * PRIMARY KEY the entries are whole rows already in row order (E3): the
 * batch is copied whole with its keys emptied (spine_batch_rows), with no
 * comparison per row.  With one, the rows are the values, in key order:
 * the builder sorts them. */
static ivm_rc table_delta_rows(const table *t, spine_batch *d, spine_batch **out)
{
    if (t->npk == 0)
        return spine_batch_rows(d, out);
    spine_builder b;
    spine_builder_init(&b);
    /* Room for every row at once, not doubling up to it. */
    ivm_rc rc = d->n > 0 && spine_builder_reserve(&b, d->bytes) == NULL ? IVM_NOMEM : IVM_OK;
    for (size_t i = 0; i < d->n && rc == IVM_OK; i++) {
        size_t len;
        const uint8_t *row = spine_batch_val(d, i, &len);
        rc = spine_builder_push(&b, NULL, 0, row, len, d->w[i]);
    }
    if (rc == IVM_OK)
        rc = spine_builder_finish(&b, out);
    spine_builder_fini(&b);
    return rc;
}

/* ---- View contents -------------------------------------------------------------- */

static bool rel_dirty(ivm_db *db, uint32_t id);

static bool view_dirty(ivm_db *db, const view *v)
{
    for (uint32_t i = 0; i < v->q->ninputs; i++)
        if (v->q->inputs[i].rel_id != PLAN_REL_DUAL && rel_dirty(db, v->q->inputs[i].rel_id))
            return true;
    return false;
}

/* True if the relation's contents differ inside the open transaction. */
static bool rel_dirty(ivm_db *db, uint32_t id)
{
    relent *r = rel_get(db, id);
    if (r == NULL)
        return false;
    if (r->t)
        return r->t->pending != NULL && r->t->pending->n > 0;
    return view_dirty(db, r->v);
}

static ivm_rc rel_contents(ivm_db *db, uint32_t id, spine_batch **out, ivm_err *err);

/* Feeds every input of a planned query with its relation's current contents,
 * into a host (h) or a segment (s). */
static ivm_rc feed_contents(ivm_db *db, const plan_query *q, dbsp_host *h, dbsp_seg *s,
                            ivm_err *err)
{
    for (uint32_t i = 0; i < q->ninputs; i++) {
        spine_batch *b = NULL;
        ivm_rc rc;
        if (q->inputs[i].rel_id == PLAN_REL_DUAL) {
            spine_builder bl;
            spine_builder_init(&bl);
            rc = spine_builder_push(&bl, NULL, 0, NULL, 0, 1);
            if (rc == IVM_OK)
                rc = spine_builder_finish(&bl, &b);
            spine_builder_fini(&bl);
        } else {
            rc = rel_contents(db, q->inputs[i].rel_id, &b, err);
        }
        if (rc == IVM_OK)
            rc = h ? dbsp_host_feed_take(h, q->inputs[i].node, b)
                   : dbsp_seg_feed_take(s, q->inputs[i].node, b);
        if (rc != IVM_OK)
            return rc;
    }
    return IVM_OK;
}

/* Runs q once over the current contents; *out is the result's rows. */
static ivm_rc run_once(ivm_db *db, const plan_query *q, spine_batch **out, ivm_err *err)
{
    dbsp_host *h = NULL;
    ivm_rc rc = dbsp_host_new(q->plan, db->sched, &h);
    if (rc == IVM_OK)
        rc = feed_contents(db, q, h, NULL, err);
    if (rc == IVM_OK)
        rc = dbsp_host_step(h, err);
    if (rc == IVM_OK)
        rc = dbsp_host_delta(h, q->output, out);
    dbsp_host_free(h);
    return rc;
}

static ivm_rc view_check(const view *v, ivm_err *err)
{
    if (v->broken != IVM_OK)
        return ivm_err_set(err, v->broken, 0, 0, "view %s is broken: %s", v->name, v->broken_msg);
    return IVM_OK;
}

static ivm_rc rel_contents(ivm_db *db, uint32_t id, spine_batch **out, ivm_err *err)
{
    relent *r = rel_get(db, id);
    if (r == NULL)
        return ivm_err_set(err, IVM_INTERNAL, 0, 0, "relation %u is gone", id);
    if (r->t)
        return table_contents(r->t, out);
    view *v = r->v;
    ivm_rc rc = view_check(v, err);
    if (rc != IVM_OK)
        return rc;
    spine_batch *b = NULL;
    if (view_dirty(db, v)) {
        /* Inside a transaction the maintained contents are those of the last
         * commit; the transaction's own view is recomputed from its tables. */
        rc = run_once(db, v->q, &b, err);
    } else {
        spine_cursor *c = NULL;
        rc = dbsp_seg_cursor(v->seg, v->q->output, &c);
        if (rc != IVM_OK)
            return rc;
        spine_builder bl;
        spine_builder_init(&bl);
        for (; rc == IVM_OK && spine_cursor_key_valid(c); spine_cursor_step_key(c)) {
            size_t klen;
            const uint8_t *k = spine_cursor_key(c, &klen);
            for (; rc == IVM_OK && spine_cursor_val_valid(c); spine_cursor_step_val(c)) {
                size_t vlen;
                const uint8_t *val = spine_cursor_val(c, &vlen);
                uint8_t *p = spine_builder_reserve(&bl, klen + vlen);
                if (p == NULL) {
                    rc = IVM_NOMEM;
                    break;
                }
                memcpy(p, k, klen);
                memcpy(p + klen, val, vlen);
                rc = spine_builder_commit(&bl, 0, klen + vlen, spine_cursor_weight(c));
            }
        }
        spine_cursor_free(c);
        if (rc == IVM_OK)
            rc = spine_builder_finish(&bl, &b);
        spine_builder_fini(&bl);
        *out = b;
        return rc;
    }
    if (rc != IVM_OK)
        return rc;
    rc = spine_batch_rows(b, out); /* input rows: klen 0 */
    spine_batch_unref(b);
    return rc;
}

/* ---- Values into columns --------------------------------------------------------- */

/* Converts v to column col's class the way SQLite's column affinity does
 * for values that convert without loss; anything else is refused, since
 * ivm's columns are typed.  Text results are allocated in db->scratch. */
static ivm_rc coerce(ivm_db *db, const table *t, uint32_t col, ivm_value *v, plan_pos pos,
                     ivm_err *err)
{
    ivm_type want = t->col_types[col];
    char buf[40];
    if (v->type == IVM_TNULL) {
        if (t->not_null[col])
            return ivm_err_set(err, IVM_CONSTRAINT, pos.line, pos.col,
                               "NOT NULL constraint failed: %s.%s", t->name, t->col_names[col]);
        return IVM_OK;
    }
    if (v->type == want || want == IVM_TNULL)
        return IVM_OK;
    switch (want) {
    case IVM_TINT:
        if (v->type == IVM_TREAL && v->u.r >= -9.2233720368547758e18 &&
            v->u.r < 9.2233720368547758e18 && v->u.r == (double)(int64_t)v->u.r) {
            *v = ivm_value_int((int64_t)v->u.r);
            return IVM_OK;
        }
        if (v->type == IVM_TTEXT) {
            /* Text that is one number, spaces around allowed ('1e1' is 10). */
            ivm_value num;
            if (dbsp_text_to_number(v->u.s.p, v->u.s.n, &num)) {
                if (num.type == IVM_TINT) {
                    *v = num;
                    return IVM_OK;
                }
                if (num.u.r >= -9.2233720368547758e18 && num.u.r < 9.2233720368547758e18 &&
                    num.u.r == (double)(int64_t)num.u.r) {
                    *v = ivm_value_int((int64_t)num.u.r);
                    return IVM_OK;
                }
            }
        }
        break;
    case IVM_TREAL:
        if (v->type == IVM_TINT) {
            *v = ivm_value_real((double)v->u.i);
            return IVM_OK;
        }
        if (v->type == IVM_TTEXT) {
            ivm_value num;
            if (dbsp_text_to_number(v->u.s.p, v->u.s.n, &num)) {
                *v = num.type == IVM_TINT ? ivm_value_real((double)num.u.i) : num;
                return IVM_OK;
            }
        }
        break;
    case IVM_TTEXT: {
        size_t n = v->type == IVM_TINT ? (size_t)snprintf(buf, sizeof buf, "%lld", (long long)v->u.i)
                                       : ivm_format_real(v->u.r, buf, sizeof buf);
        char *p = rt_arena_strndup(&db->scratch, buf, n);
        if (p == NULL)
            return IVM_NOMEM;
        *v = ivm_value_text(p, (uint32_t)n);
        return IVM_OK;
    }
    default:
        break;
    }
    static const char *const cls[] = {"NULL", "INTEGER", "REAL", "TEXT"};
    return ivm_err_set(err, IVM_INVALID, pos.line, pos.col,
                       "cannot store a %s value in %s column %s.%s", cls[v->type],
                       plan_type_name(t->decl_types[col]), t->name, t->col_names[col]);
}

/* ---- Constraints ------------------------------------------------------------------ */

/* "t.a, t.b" for an error message. */
static void cols_text(const table *t, const uint32_t *cols, uint32_t n, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
    for (uint32_t p = 0; p < n && o < cap; p++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%s.%s", p ? ", " : "", t->name,
                              t->col_names[cols[p]]);
}

/* Checks that adding d (consolidated, keyed like the cursor's entries) to
 * what cursor c reads leaves every key of d that d adds to with weight at
 * most 1 in total (keeps E4).  The error names the columns. */
static ivm_rc check_keys(const table *t, spine_cursor *c, const spine_batch *d,
                         const uint32_t *cols, uint32_t ncols, ivm_err *err)
{
    size_t i = 0;
    while (i < d->n) {
        size_t klen, k2;
        const uint8_t *key = spine_batch_key(d, i, &klen);
        int64_t change = 0;
        size_t j = i;
        for (; j < d->n; j++) {
            const uint8_t *kj = spine_batch_key(d, j, &k2);
            if (spine_row_cmp(key, klen, kj, k2) != 0)
                break;
            change += d->w[j];
        }
        if (change > 0) {
            int64_t have = 0;
            spine_cursor_seek_key(c, key, klen);
            if (spine_cursor_key_valid(c)) {
                size_t ck;
                const uint8_t *cur = spine_cursor_key(c, &ck);
                if (spine_row_cmp(cur, ck, key, klen) == 0)
                    for (; spine_cursor_val_valid(c); spine_cursor_step_val(c))
                        have += spine_cursor_weight(c);
            }
            if (have + change > 1) {
                char names[256];
                cols_text(t, cols, ncols, names, sizeof names);
                return ivm_err_set(err, IVM_CONSTRAINT, 0, 0, "UNIQUE constraint failed: %s",
                                   names);
            }
        }
        i = j;
    }
    return IVM_OK;
}

/* Checks that applying d (table layout) to the table keeps every PK unique
 * (keeps E4).  Rows that d adds were checked for NOT NULL as they were made. */
static ivm_rc check_unique(const table *t, const spine_batch *d, ivm_err *err)
{
    if (t->npk == 0 || d->n == 0)
        return IVM_OK;
    spine_cursor *c = NULL;
    ivm_rc rc = table_cursor(t, &c);
    if (rc != IVM_OK)
        return rc;
    rc = check_keys(t, c, d, t->pk, t->npk, err);
    spine_cursor_free(c);
    return rc;
}

/* The row bytes of entry i of a batch in a table's layout. */
static const uint8_t *table_batch_row(const table *t, const spine_batch *d, size_t i, size_t *len)
{
    return t->npk ? spine_batch_val(d, i, len) : spine_batch_key(d, i, len);
}

/* The change d (table layout, or input rows with klen 0 when `rows`) makes
 * to index u: entries keyed by u's columns, rows with a NULL there left out. */
static ivm_rc uniq_delta(const table *t, const uniq *u, const spine_batch *d, bool rows,
                         ivm_value *vals, spine_batch **out)
{
    spine_builder b;
    spine_builder_init(&b);
    spine_builder_set_filters(&b, false); /* for the index's spine: no exact seeks */
    ivm_rc rc = IVM_OK;
    for (size_t i = 0; i < d->n && rc == IVM_OK; i++) {
        size_t len;
        const uint8_t *row = rows ? spine_batch_row(d, i, &len) : table_batch_row(t, d, i, &len);
        if (spine_row_decode(row, len, vals, t->ncols) != (int)t->ncols) {
            rc = IVM_CORRUPT;
            break;
        }
        size_t klen = 0;
        bool null = false;
        for (uint32_t k = 0; k < u->ncols; k++) {
            null |= vals[u->cols[k]].type == IVM_TNULL;
            klen += spine_row_size(&vals[u->cols[k]], 1);
        }
        if (null)
            continue;
        uint8_t *p = spine_builder_reserve(&b, klen + len);
        if (p == NULL) {
            rc = IVM_NOMEM;
            break;
        }
        uint8_t *q = p;
        for (uint32_t k = 0; k < u->ncols; k++)
            q += spine_value_encode(&vals[u->cols[k]], q);
        memcpy(q, row, len);
        rc = spine_builder_commit(&b, klen, klen + len, d->w[i]);
    }
    if (rc == IVM_OK)
        rc = spine_builder_finish(&b, out);
    spine_builder_fini(&b);
    return rc;
}

/* Checks the change di to index u against its contents (keeps E4). */
static ivm_rc uniq_check(const table *t, const uniq *u, const spine_batch *di, ivm_err *err)
{
    if (di->n == 0)
        return IVM_OK;
    const spine *s = u->data;
    spine_batch *extra = u->pending;
    spine_cursor *c = NULL;
    ivm_rc rc = spine_cursor_new(&s, 1, &extra, 1, &c);
    if (rc != IVM_OK)
        return rc;
    rc = check_keys(t, c, di, u->cols, u->ncols, err);
    spine_cursor_free(c);
    return rc;
}

/* *pending += d_owned. */
static ivm_rc pending_add(spine_batch **pending, spine_batch *d_owned)
{
    if (d_owned->n == 0) {
        spine_batch_unref(d_owned);
        return IVM_OK;
    }
    if (*pending == NULL) {
        *pending = d_owned;
        return IVM_OK;
    }
    spine_batch *m = NULL;
    ivm_rc rc = spine_batch_merge(*pending, d_owned, &m);
    spine_batch_unref(d_owned);
    if (rc != IVM_OK)
        return rc;
    spine_batch_unref(*pending);
    *pending = m;
    return IVM_OK;
}

/* Checks a statement's change d (table layout) against the PRIMARY KEY and
 * every UNIQUE constraint and, only if all hold, adds it to the transaction
 * (keeps E1, E4).  Consumes d_owned. */
static ivm_rc apply_checked(table *t, spine_batch *d_owned, ivm_err *err)
{
    ivm_rc rc = check_unique(t, d_owned, err);
    spine_batch **di = NULL;
    ivm_value *vals = NULL;
    if (rc == IVM_OK && t->nuniqs > 0 && d_owned->n > 0) {
        di = ivm_calloc(t->nuniqs, sizeof *di);
        vals = ivm_calloc(t->ncols + 1, sizeof *vals);
        if (di == NULL || vals == NULL)
            rc = IVM_NOMEM;
        for (uint32_t k = 0; k < t->nuniqs && rc == IVM_OK; k++) {
            rc = uniq_delta(t, &t->uniqs[k], d_owned, false, vals, &di[k]);
            if (rc == IVM_OK)
                rc = uniq_check(t, &t->uniqs[k], di[k], err);
        }
    }
    /* Nothing has changed so far; from here on only memory can fail, and
     * then the transaction is discarded by the caller. */
    for (uint32_t k = 0; k < t->nuniqs && di != NULL; k++) {
        if (rc == IVM_OK && di[k] != NULL) {
            rc = pending_add(&t->uniqs[k].pending, di[k]);
        } else {
            spine_batch_unref(di[k]);
        }
        di[k] = NULL;
    }
    ivm_free(di);
    ivm_free(vals);
    if (rc != IVM_OK) {
        spine_batch_unref(d_owned);
        return rc;
    }
    return pending_add(&t->pending, d_owned);
}

/* Checks and applies a statement's change (consumed). */
static ivm_rc finish_change(table *t, spine_builder *b, ivm_err *err)
{
    spine_batch *d = NULL;
    ivm_rc rc = spine_builder_finish(b, &d);
    if (rc != IVM_OK)
        return rc;
    return apply_checked(t, d, err);
}

/* Builds index u over the table's current rows: IVM_CONSTRAINT if two rows
 * already share a key. */
static ivm_rc uniq_build(const table *t, uniq *u, ivm_err *err)
{
    spine_batch *rows = NULL, *di = NULL;
    ivm_value *vals = ivm_calloc(t->ncols + 1, sizeof *vals);
    if (vals == NULL)
        return IVM_NOMEM;
    ivm_rc rc = table_contents(t, &rows);
    if (rc == IVM_OK)
        rc = uniq_delta(t, u, rows, true, vals, &di);
    spine_batch_unref(rows);
    ivm_free(vals);
    if (rc != IVM_OK)
        return rc;
    /* Any key with weight above 1 is a duplicate. */
    for (size_t i = 0; i < di->n && rc == IVM_OK; i++) {
        size_t klen, k2;
        const uint8_t *key = spine_batch_key(di, i, &klen);
        int64_t w = di->w[i];
        for (size_t j = i + 1; j < di->n; j++) {
            const uint8_t *kj = spine_batch_key(di, j, &k2);
            if (spine_row_cmp(key, klen, kj, k2) != 0)
                break;
            w += di->w[j];
        }
        if (w > 1) {
            char names[256];
            cols_text(t, u->cols, u->ncols, names, sizeof names);
            rc = ivm_err_set(err, IVM_CONSTRAINT, 0, 0, "UNIQUE constraint failed: %s", names);
        }
    }
    if (rc == IVM_OK)
        rc = spine_insert_take(u->data, di);
    else
        spine_batch_unref(di);
    return rc;
}

/* Adds a UNIQUE index named name (NULL for a constraint of CREATE TABLE)
 * over cols (names, resolved here) to t and fills it from t's rows. */
static ivm_rc uniq_add(table *t, const char *name, const char *const *cols, uint32_t ncols,
                       const plan_pos *col_pos, plan_pos pos, ivm_err *err)
{
    uint32_t *ix = ivm_calloc(ncols + 1, sizeof *ix);
    if (ix == NULL)
        return IVM_NOMEM;
    for (uint32_t k = 0; k < ncols; k++) {
        uint32_t c = 0;
        while (c < t->ncols && strcasecmp(t->col_names[c], cols[k]) != 0)
            c++;
        if (c == t->ncols) {
            ivm_free(ix);
            plan_pos at = col_pos ? col_pos[k] : pos;
            return ivm_err_set(err, IVM_SCHEMA, at.line, at.col, "no such column: %s", cols[k]);
        }
        ix[k] = c;
    }
    if (ivm_grow((void **)&t->uniqs, &t->uniqcap, t->nuniqs + 1, sizeof *t->uniqs) != IVM_OK) {
        ivm_free(ix);
        return IVM_NOMEM;
    }
    uniq *u = &t->uniqs[t->nuniqs];
    memset(u, 0, sizeof *u);
    u->cols = ix;
    u->ncols = ncols;
    u->data = spine_new(); /* probed by seek_key only: no key filters */
    u->name = name ? ivm_strndup(name, strlen(name)) : NULL;
    ivm_rc rc = IVM_OK;
    if (u->data == NULL || (name != NULL && u->name == NULL))
        rc = IVM_NOMEM;
    if (rc == IVM_OK)
        rc = uniq_build(t, u, err);
    if (rc != IVM_OK) {
        uniq_fini(u);
        return rc;
    }
    t->nuniqs++;
    return IVM_OK;
}

/* ---- Result rows ------------------------------------------------------------------ */

typedef struct result {
    const plan_query *q;
    spine_batch *rows;       /* the query's output */
    ivm_value *vals;         /* decoded rows, ncols + nhidden each */
    size_t nrows;            /* rows after expanding weights */
    uint32_t width;
} result;

/* qsort_r (GNU) passes the query, so that engines on different threads
 * sort independently. */
static int sort_cmp(const void *pa, const void *pb, void *ctx)
{
    const plan_query *q = ctx;
    const ivm_value *a = *(const ivm_value *const *)pa, *b = *(const ivm_value *const *)pb;
    for (uint32_t i = 0; i < q->nsort; i++) {
        const plan_sort_key *k = &q->sort[i];
        const ivm_value *x = &a[k->col], *y = &b[k->col];
        int c;
        if (x->type == IVM_TNULL || y->type == IVM_TNULL) {
            if (x->type == y->type)
                continue;
            c = x->type == IVM_TNULL ? -1 : 1;
            c = k->nulls < 0 ? c : -c;
            return c;
        }
        c = dbsp_value_cmp(x, y);
        if (c != 0)
            return k->desc ? -c : c;
    }
    return 0;
}

/* A query's result in reading order: rows decoded (ncols + nhidden values
 * each), weights expanded, sorted by ORDER BY, cut by LIMIT/OFFSET. */
typedef struct ordered {
    ivm_value *vals;
    const ivm_value **order;  /* rows [from, to) of order are the result */
    size_t from, to;
} ordered;

static void ordered_fini(ordered *o)
{
    ivm_free(o->vals);
    ivm_free(o->order);
    memset(o, 0, sizeof *o);
}

static ivm_rc order_rows(const plan_query *q, const spine_batch *rows, ordered *out,
                         ivm_err *err)
{
    uint32_t width = q->ncols + q->nhidden;
    size_t total = 0;
    for (size_t i = 0; i < rows->n; i++) {
        if (rows->w[i] < 0)
            return ivm_err_set(err, IVM_INTERNAL, 0, 0, "negative multiplicity in a result");
        total += (size_t)rows->w[i];
    }
    ivm_value *vals = ivm_malloc(sizeof *vals * (rows->n * width + 1));
    const ivm_value **order = ivm_malloc(sizeof *order * (total + 1));
    if (vals == NULL || order == NULL) {
        ivm_free(vals);
        ivm_free(order);
        return IVM_NOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < rows->n; i++) {
        size_t len;
        const uint8_t *row = spine_batch_row(rows, i, &len);
        if (spine_row_decode(row, len, &vals[i * width], width) != (int)width) {
            ivm_free(vals);
            ivm_free(order);
            return ivm_err_set(err, IVM_CORRUPT, 0, 0, "a result row does not decode");
        }
        for (int64_t w = 0; w < rows->w[i]; w++)
            order[k++] = &vals[i * width];
    }
    if (q->nsort > 0)
        qsort_r(order, total, sizeof *order, sort_cmp, (void *)q);
    size_t from = q->offset > 0 ? (size_t)q->offset : 0;
    size_t to = total;
    if (q->limit >= 0 && from + (size_t)q->limit < to)
        to = from + (size_t)q->limit;
    out->vals = vals;
    out->order = order;
    out->from = from < to ? from : to;
    out->to = to;
    return IVM_OK;
}

/* Hands the rows of a result to fn in reading order. */
static ivm_rc deliver(const plan_query *q, const spine_batch *rows, ivm_row_fn fn, void *arg,
                      ivm_err *err)
{
    ordered o;
    ivm_rc rc = order_rows(q, rows, &o, err);
    if (rc != IVM_OK)
        return rc;
    for (size_t i = o.from; i < o.to && fn != NULL; i++)
        if (fn(arg, q->ncols, o.order[i], (const char *const *)q->col_names) != 0)
            break;
    ordered_fini(&o);
    return IVM_OK;
}

/* ---- Statements -------------------------------------------------------------------- */

typedef struct exec_ctx {
    ivm_db *db;
    ivm_row_fn fn;
    void *arg;
    ivm_err *err;
} exec_ctx;

static ivm_rc no_txn_ddl(exec_ctx *x, const plan_stmt *st)
{
    if (!x->db->in_txn)
        return IVM_OK;
    return ivm_err_set(x->err, IVM_UNSUPPORTED, st->pos.line, st->pos.col,
                       "schema changes inside a transaction are not supported yet");
}

static ivm_rc exec_create_table(exec_ctx *x, const plan_stmt *st)
{
    ivm_db *db = x->db;
    ivm_err *err = x->err;
    ivm_rc rc = no_txn_ddl(x, st);
    if (rc != IVM_OK)
        return rc;
    if (rel_find(db, st->name) != NULL) {
        if (st->if_not_exists)
            return IVM_OK;
        return ivm_err_set(err, IVM_SCHEMA, st->name_pos.line, st->name_pos.col, "%s %s already exists",
                           rel_find(db, st->name)->t ? "table" : "view", st->name);
    }
    for (uint32_t i = 0; i < st->ncoldefs; i++) {
        const plan_column_def *cd = &st->coldefs[i];
        if (cd->type == PLAN_TY_NONE)
            return ivm_err_set(err, IVM_SCHEMA, cd->pos.line, cd->pos.col,
                               "column %s needs a type (ivm's columns are typed)", cd->name);
        if (plan_type_class(cd->type) == IVM_TNULL || cd->type == PLAN_TY_DECIMAL ||
            cd->type == PLAN_TY_DATE || cd->type == PLAN_TY_TIMESTAMP)
            return ivm_err_set(err, IVM_UNSUPPORTED, cd->pos.line, cd->pos.col,
                               "type %s of column %s is not supported yet",
                               plan_type_name(cd->type), cd->name);
        for (uint32_t j = 0; j < i; j++)
            if (strcasecmp(st->coldefs[j].name, cd->name) == 0)
                return ivm_err_set(err, IVM_SCHEMA, cd->pos.line, cd->pos.col,
                                   "duplicate column name: %s", cd->name);
    }
    table *t = ivm_calloc(1, sizeof *t);
    if (t == NULL)
        return IVM_NOMEM;
    uint32_t n = st->ncoldefs;
    t->ncols = n;
    t->name = ivm_strndup(st->name, strlen(st->name));
    t->col_names = ivm_calloc(n + 1, sizeof *t->col_names);
    t->col_types = ivm_calloc(n + 1, sizeof *t->col_types);
    t->decl_types = ivm_calloc(n + 1, sizeof *t->decl_types);
    t->not_null = ivm_calloc(n + 1, sizeof *t->not_null);
    t->defaults = ivm_calloc(n + 1, sizeof *t->defaults);
    t->pk = ivm_calloc(n + 1, sizeof *t->pk);
    rc = IVM_NOMEM;
    if (!t->name || !t->col_names || !t->col_types || !t->decl_types || !t->not_null ||
        !t->defaults || !t->pk)
        goto fail;
    for (uint32_t i = 0; i < n; i++) {
        const plan_column_def *cd = &st->coldefs[i];
        t->col_names[i] = ivm_strndup(cd->name, strlen(cd->name));
        if (t->col_names[i] == NULL)
            goto fail;
        t->col_types[i] = plan_type_class(cd->type);
        t->decl_types[i] = cd->type;
        t->not_null[i] = cd->not_null || cd->primary_key;
        if (cd->primary_key) {
            if (t->npk > 0 || st->npk > 0) {
                rc = ivm_err_set(err, IVM_SCHEMA, cd->pos.line, cd->pos.col,
                                 "table \"%s\" has more than one primary key", st->name);
                goto fail;
            }
            t->pk[t->npk++] = i;
        }
        if (cd->default_ != NULL) {
            rc = plan_scalar(cd->default_, NULL, &t->defaults[i], err);
            if (rc != IVM_OK)
                goto fail;
        }
    }
    for (uint32_t p = 0; p < st->npk; p++) {
        uint32_t i = 0;
        while (i < n && strcasecmp(t->col_names[i], st->pk[p]) != 0)
            i++;
        if (i == n) {
            rc = ivm_err_set(err, IVM_SCHEMA, st->pk_pos.line, st->pk_pos.col,
                             "no such column in PRIMARY KEY: %s", st->pk[p]);
            goto fail;
        }
        t->pk[t->npk++] = i;
        t->not_null[i] = true;
    }
    /* SQLite's rowid alias: a one-column INTEGER PRIMARY KEY. */
    t->rowid_alias = t->npk == 1 && t->decl_types[t->pk[0]] == PLAN_TY_INTEGER;
    /* Read in order and by seek_key: no key filters.  Without a PRIMARY
     * KEY no push looks a row up by key (only a deletion checks its row),
     * so merges take 8 batches a level: fewer copies per row. */
    spine_opts so = {.wide = t->npk == 0};
    if ((t->data = spine_new_opts(&so)) == NULL) {
        rc = IVM_NOMEM;
        goto fail;
    }
    /* UNIQUE constraints: each column's, then the table's. */
    for (uint32_t i = 0; i < n; i++) {
        const plan_column_def *cd = &st->coldefs[i];
        if (cd->unique && !(cd->primary_key && t->npk == 1) &&
            (rc = uniq_add(t, NULL, &cd->name, 1, NULL, cd->pos, err)) != IVM_OK)
            goto fail;
    }
    for (uint32_t k = 0; k < st->nuniques; k++) {
        const plan_unique *u = &st->uniques[k];
        if ((rc = uniq_add(t, NULL, u->cols, u->ncols, NULL, u->pos, err)) != IVM_OK)
            goto fail;
    }
    rc = catalog_try(db, st, err);
    if (rc != IVM_OK)
        goto fail;
    t->rel.kind = PLAN_REL_TABLE;
    t->rel.name = t->name;
    t->rel.ncols = n;
    t->rel.col_names = (const char *const *)t->col_names;
    t->rel.col_types = t->col_types;
    rc = rel_add(db, t, NULL, &t->rel.id);
    catalog_done(db, rc == IVM_OK);
    if (rc != IVM_OK)
        goto fail;
    return IVM_OK;
fail:
    table_free(t);
    return rc;
}

/* Runs one step of a view over its inputs' deltas or, at creation, over
 * their whole contents. */
static void view_fail(ivm_db *db, view *v, ivm_rc rc, const ivm_err *e)
{
    v->broken = rc;
    snprintf(v->broken_msg, sizeof v->broken_msg, "%s", e && e->msg[0] ? e->msg : ivm_rc_str(rc));
    /* E5: the circuit process fails; its restart rebuilds the view. */
    if (db->procs.circuit != NULL) {
        char why[96];
        snprintf(why, sizeof why, "view %.40s: %.40s", v->name, v->broken_msg);
        rt_proc_exit(db->procs.circuit, RT_EXIT_FAILED, why);
    }
}

/* Gives v its segment, last in the circuit: links from the views it reads
 * (their later changes reach it on each worker), then a backfill step of
 * this segment alone over its inputs' current contents.  On failure v has
 * no segment. */
static ivm_rc view_attach(ivm_db *db, view *v, ivm_err *err)
{
    ivm_rc rc = dbsp_circuit_add(db->circuit, v->q->plan, &v->seg);
    if (rc != IVM_OK)
        return ivm_err_set(err, rc, 0, 0, "view %s: cannot build its circuit: %s", v->name,
                           ivm_rc_str(rc));
    rc = feed_contents(db, v->q, NULL, v->seg, err);
    for (uint32_t k = 0; k < v->q->ninputs && rc == IVM_OK; k++) {
        relent *r = rel_get(db, v->q->inputs[k].rel_id);
        if (r != NULL && r->v != NULL)
            rc = dbsp_circuit_link(db->circuit, r->v->seg, r->v->q->output, v->seg,
                                   v->q->inputs[k].node);
    }
    if (rc == IVM_OK) {
        dbsp_seg_touch(v->seg);
        rc = dbsp_circuit_step(db->circuit, err);
    }
    if (rc == IVM_OK)
        rc = dbsp_seg_status(v->seg, err);
    if (rc != IVM_OK) {
        if (err->rc == IVM_OK)
            ivm_err_set(err, rc, 0, 0, "view %s: %s", v->name, ivm_rc_str(rc));
        dbsp_circuit_remove(db->circuit, v->seg);
        v->seg = NULL;
    }
    return rc;
}

static ivm_rc exec_create_view(exec_ctx *x, const plan_stmt *st)
{
    ivm_db *db = x->db;
    ivm_err *err = x->err;
    ivm_rc rc = no_txn_ddl(x, st);
    if (rc != IVM_OK)
        return rc;
    relent *old = rel_find(db, st->name);
    if (old != NULL) {
        if (st->if_not_exists)
            return IVM_OK;
        return ivm_err_set(err, IVM_SCHEMA, st->name_pos.line, st->name_pos.col, "%s %s already exists",
                           old->t ? "table" : "view", st->name);
    }
    view *v = ivm_calloc(1, sizeof *v);
    if (v == NULL)
        return IVM_NOMEM;
    v->name = ivm_strndup(st->name, strlen(st->name));
    v->sql = ivm_strndup(st->text, st->text_len);
    rc = IVM_NOMEM;
    if (v->name == NULL || v->sql == NULL)
        goto fail;
    rc = plan_select_query(st->select, &db->pcat, true, &v->q, err);
    if (rc != IVM_OK)
        goto fail;
    if (st->ncols > 0) {
        if (st->ncols != v->q->ncols) {
            rc = ivm_err_set(err, IVM_SCHEMA, st->name_pos.line, st->name_pos.col,
                             "expected %u columns for '%s' but got %u", st->ncols, st->name,
                             v->q->ncols);
            goto fail;
        }
        for (uint32_t i = 0; i < st->ncols; i++) {
            char *nn = ivm_strndup(st->cols[i], strlen(st->cols[i]));
            if (nn == NULL)
                goto fail;
            ivm_free(v->q->col_names[i]);
            v->q->col_names[i] = nn;
        }
    }
    for (uint32_t i = 0; i < v->q->ncols; i++)
        for (uint32_t j = 0; j < i; j++)
            if (strcasecmp(v->q->col_names[i], v->q->col_names[j]) == 0) {
                rc = ivm_err_set(err, IVM_UNSUPPORTED, st->name_pos.line, st->name_pos.col,
                                 "view %s has two columns named %s; name them apart with AS",
                                 st->name, v->q->col_names[i]);
                goto fail;
            }
    rc = catalog_try(db, st, err);
    if (rc != IVM_OK)
        goto fail;
    rc = view_attach(db, v, err);
    if (rc == IVM_OK) {
        v->rel.kind = PLAN_REL_VIEW;
        v->rel.name = v->name;
        v->rel.ncols = v->q->ncols;
        v->rel.col_names = (const char *const *)v->q->col_names;
        v->rel.col_types = v->q->col_types;
        v->rel.col_affs = v->q->col_affs;
        rc = rel_add(db, NULL, v, &v->rel.id);
    }
    catalog_done(db, rc == IVM_OK);
    if (rc != IVM_OK)
        goto fail;
    return IVM_OK;
fail:
    view_free(db, v);
    return rc;
}

/* CREATE [UNIQUE] INDEX.  SQLite keeps every index in the catalog; ivm uses
 * none for reading (a hint), but enforces a UNIQUE one like a UNIQUE
 * constraint, and refuses to create it over rows that already break it. */
static ivm_rc exec_create_index(exec_ctx *x, const plan_stmt *st)
{
    ivm_db *db = x->db;
    ivm_rc rc = no_txn_ddl(x, st);
    if (rc != IVM_OK)
        return rc;
    /* With IF NOT EXISTS an existing index is left alone (SQLite agrees). */
    bool existed = false;
    if (st->if_not_exists) {
        sqlite3_stmt *q = NULL;
        if (sqlite3_prepare_v2(db->cat,
                               "SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = ?1 "
                               "COLLATE NOCASE",
                               -1, &q, NULL) == SQLITE_OK) {
            sqlite3_bind_text(q, 1, st->name, -1, SQLITE_STATIC);
            existed = sqlite3_step(q) == SQLITE_ROW;
        }
        sqlite3_finalize(q);
    }
    /* Names first, with their positions (SQLite's opinion has none). */
    relent *tr = rel_find(db, st->on_table);
    for (uint32_t k = 0; tr != NULL && tr->t != NULL && k < st->ncols; k++) {
        uint32_t c = 0;
        while (c < tr->t->ncols && strcasecmp(tr->t->col_names[c], st->cols[k]) != 0)
            c++;
        if (c == tr->t->ncols)
            return ivm_err_set(x->err, IVM_SCHEMA, st->col_pos[k].line, st->col_pos[k].col,
                               "no such column: %s", st->cols[k]);
    }
    rc = catalog_try(db, st, x->err);
    if (rc != IVM_OK)
        return rc;
    if (st->unique && !existed) {
        relent *r = rel_find(db, st->on_table);
        if (r == NULL || r->t == NULL)
            rc = ivm_err_set(x->err, IVM_INTERNAL, st->pos.line, st->pos.col,
                             "index %s: table %s is not in ivm's catalog", st->name, st->on_table);
        else
            rc = uniq_add(r->t, st->name, st->cols, st->ncols, st->col_pos, st->pos, x->err);
        if (rc != IVM_OK && x->err->line == 0) {
            /* Position the constraint error at the statement. */
            x->err->line = st->pos.line;
            x->err->col = st->pos.col;
        }
    }
    catalog_done(db, rc == IVM_OK);
    return rc;
}

/* The name of a view that reads relation id, or NULL. */
static const char *dependent_of(ivm_db *db, uint32_t id)
{
    for (size_t i = 0; i < db->nrels; i++) {
        view *v = db->rels[i].v;
        if (v == NULL)
            continue;
        for (uint32_t k = 0; k < v->q->ninputs; k++)
            if (v->q->inputs[k].rel_id == id)
                return v->name;
    }
    return NULL;
}

static ivm_rc exec_drop(exec_ctx *x, const plan_stmt *st)
{
    ivm_db *db = x->db;
    ivm_rc rc = no_txn_ddl(x, st);
    if (rc != IVM_OK)
        return rc;
    if (st->kind == PLAN_S_DROP_INDEX) {
        rc = catalog_try(db, st, x->err);
        if (rc != IVM_OK)
            return rc;
        catalog_done(db, true);
        /* A UNIQUE index stops being enforced; other indexes were hints. */
        for (size_t i = 0; i < db->nrels; i++) {
            table *t = db->rels[i].t;
            for (uint32_t k = 0; t != NULL && k < t->nuniqs; k++) {
                if (t->uniqs[k].name == NULL || strcasecmp(t->uniqs[k].name, st->name) != 0)
                    continue;
                uniq_fini(&t->uniqs[k]);
                memmove(&t->uniqs[k], &t->uniqs[k + 1], sizeof *t->uniqs * (t->nuniqs - k - 1));
                t->nuniqs--;
                return IVM_OK;
            }
        }
        return IVM_OK;
    }
    bool want_table = st->kind == PLAN_S_DROP_TABLE;
    relent *r = rel_find(db, st->name);
    if (r == NULL || (r->t != NULL) != want_table) {
        if (st->if_exists && r == NULL)
            return IVM_OK;
        return ivm_err_set(x->err, IVM_SCHEMA, st->name_pos.line, st->name_pos.col, "no such %s: %s",
                           want_table ? "table" : "view", st->name);
    }
    uint32_t id = r->t ? r->t->rel.id : r->v->rel.id;
    const char *dep = dependent_of(db, id);
    if (dep != NULL)
        return ivm_err_set(x->err, IVM_SCHEMA, st->name_pos.line, st->name_pos.col,
                           "cannot drop %s %s: view %s depends on it",
                           want_table ? "table" : "view", st->name, dep);
    rc = catalog_try(db, st, x->err);
    if (rc != IVM_OK)
        return rc;
    catalog_done(db, true);
    table_free(r->t);
    view_free(db, r->v); /* its segment and state go (DROP frees) */
    r->t = NULL;
    r->v = NULL;
    return IVM_OK;
}

static ivm_rc find_table(exec_ctx *x, const char *name, plan_pos pos, table **out)
{
    relent *r = rel_find(x->db, name);
    if (r == NULL || r->t == NULL)
        return ivm_err_set(x->err, IVM_SCHEMA, pos.line, pos.col,
                           r ? "cannot modify %s because it is a view" : "no such table: %s", name);
    *out = r->t;
    return IVM_OK;
}

static ivm_rc exec_select_rows(exec_ctx *x, const plan_select *sel, plan_query **q_out,
                               spine_batch **rows_out);

/* ---- INSERT ------------------------------------------------------------------------- */

/* A set of byte strings (keys of rows an INSERT OR IGNORE/REPLACE has
 * accepted or deleted), open addressing over copies in the scratch arena.
 * Each entry carries a number (the accepted row's index). */
typedef struct kslot {
    const uint8_t *p;        /* NULL: empty */
    size_t n;
    uint32_t tag;            /* which constraint the key is of */
    uint32_t val;
    bool dead;               /* removed (kept as a tombstone) */
} kslot;

typedef struct keyset {
    kslot *slots;
    size_t cap, used;
} keyset;

static void keyset_fini(keyset *k)
{
    ivm_free(k->slots);
    memset(k, 0, sizeof *k);
}

static kslot *keyset_find(keyset *k, uint32_t tag, const uint8_t *p, size_t n)
{
    if (k->cap == 0)
        return NULL;
    size_t i = ivm_hash_bytes(p, n, tag) & (k->cap - 1);
    for (; k->slots[i].p != NULL; i = (i + 1) & (k->cap - 1)) {
        kslot *s = &k->slots[i];
        if (!s->dead && s->tag == tag && s->n == n && memcmp(s->p, p, n) == 0)
            return s;
    }
    return NULL;
}

/* Adds (tag, p) -> val; p must outlive the set (scratch). */
static ivm_rc keyset_put(keyset *k, uint32_t tag, const uint8_t *p, size_t n, uint32_t val)
{
    if ((k->used + 1) * 2 > k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 64;
        kslot *ns = ivm_calloc(cap, sizeof *ns);
        if (ns == NULL)
            return IVM_NOMEM;
        for (size_t i = 0; i < k->cap; i++) {
            kslot *o = &k->slots[i];
            if (o->p == NULL || o->dead)
                continue;
            size_t j = ivm_hash_bytes(o->p, o->n, o->tag) & (cap - 1);
            while (ns[j].p != NULL)
                j = (j + 1) & (cap - 1);
            ns[j] = *o;
        }
        ivm_free(k->slots);
        k->slots = ns;
        k->cap = cap;
        k->used = 0;
        for (size_t i = 0; i < cap; i++)
            k->used += ns[i].p != NULL;
    }
    size_t i = ivm_hash_bytes(p, n, tag) & (k->cap - 1);
    while (k->slots[i].p != NULL)
        i = (i + 1) & (k->cap - 1);
    k->slots[i] = (kslot){p, n, tag, val, false};
    k->used++;
    return IVM_OK;
}

/* What one INSERT statement is building. */
typedef struct ins_ctx {
    exec_ctx *x;
    table *t;
    plan_conflict how;
    spine_builder *b;        /* the statement's change, table layout */
    /* Rowid alias: the largest id in the table and in this statement so far. */
    bool max_known, have_max;
    int64_t max_id;
    /* OR IGNORE / OR REPLACE: the rows accepted so far (encoded, in
     * scratch), whether each was replaced since, their keys, and the
     * existing rows deleted. */
    uint8_t **acc;
    size_t *acclen;
    bool *dropped;
    size_t nacc, acccap;
    keyset keys;             /* tag 0: PK; tag k+1: uniqs[k] -> accepted row */
    keyset deleted;          /* existing rows deleted (tag 0) */
    spine_cursor *tcur;      /* the table (data + pending) */
    spine_cursor **ucur;     /* each UNIQUE index (data + pending) */
    ivm_value *scratch_vals; /* t->ncols */
} ins_ctx;

static void ins_fini(ins_ctx *ic)
{
    ivm_free(ic->acc);
    ivm_free(ic->acclen);
    ivm_free(ic->dropped);
    keyset_fini(&ic->keys);
    keyset_fini(&ic->deleted);
    spine_cursor_free(ic->tcur);
    for (uint32_t k = 0; ic->ucur != NULL && k < ic->t->nuniqs; k++)
        spine_cursor_free(ic->ucur[k]);
    ivm_free(ic->ucur);
    ivm_free(ic->scratch_vals);
}

/* True when cursor c has key (with some value); *row is then its first
 * value (the whole row, for the PK cursor of a table with a PK and for
 * index cursors). */
static bool cursor_has(spine_cursor *c, const uint8_t *key, size_t klen, const uint8_t **row,
                       size_t *len)
{
    spine_cursor_seek_key(c, key, klen);
    if (!spine_cursor_key_valid(c))
        return false;
    size_t ck;
    const uint8_t *cur = spine_cursor_key(c, &ck);
    if (spine_row_cmp(cur, ck, key, klen) != 0 || !spine_cursor_val_valid(c))
        return false;
    if (spine_cursor_weight(c) <= 0)
        return false;
    *row = spine_cursor_val(c, len);
    return true;
}

/* The largest id of the table's rowid alias (binary search with seeks:
 * INT encodings sort by value). */
static ivm_rc max_rowid(ins_ctx *ic)
{
    table *t = ic->t;
    spine_cursor *c = NULL;
    ivm_rc rc = table_cursor(t, &c);
    if (rc != IVM_OK)
        return rc;
    uint8_t enc[16];
    ivm_value v = ivm_value_int(INT64_MIN);
    spine_value_encode(&v, enc);
    spine_cursor_seek_key(c, enc, 9);
    if (spine_cursor_key_valid(c)) {
        int64_t lo = INT64_MIN, hi = INT64_MAX; /* a key >= lo exists */
        while (lo < hi) {
            uint64_t span = (uint64_t)hi - (uint64_t)lo; /* < 2^64: no overflow */
            int64_t mid = (int64_t)((uint64_t)lo + span / 2 + (span & 1));
            v = ivm_value_int(mid);
            spine_value_encode(&v, enc);
            spine_cursor_seek_key(c, enc, 9);
            if (spine_cursor_key_valid(c))
                lo = mid;
            else
                hi = mid - 1;
        }
        if (!ic->have_max || lo > ic->max_id)
            ic->max_id = lo;
        ic->have_max = true;
    }
    spine_cursor_free(c);
    ic->max_known = true;
    return IVM_OK;
}

/* Encodes the key of constraint tag (0: PK, k+1: uniqs[k]) of vals at out
 * (scratch); false if a column is NULL (no key: NULLs are distinct). */
static ivm_rc row_key(ins_ctx *ic, uint32_t tag, const ivm_value *vals, uint8_t **out,
                      size_t *len)
{
    const table *t = ic->t;
    const uint32_t *cols = tag == 0 ? t->pk : t->uniqs[tag - 1].cols;
    uint32_t n = tag == 0 ? t->npk : t->uniqs[tag - 1].ncols;
    size_t klen = 0;
    for (uint32_t k = 0; k < n; k++) {
        if (vals[cols[k]].type == IVM_TNULL) {
            *out = NULL;
            return IVM_OK;
        }
        klen += spine_row_size(&vals[cols[k]], 1);
    }
    uint8_t *p = rt_arena_alloc(&ic->x->db->scratch, klen ? klen : 1);
    if (p == NULL)
        return IVM_NOMEM;
    size_t o = 0;
    for (uint32_t k = 0; k < n; k++)
        o += spine_value_encode(&vals[cols[k]], p + o);
    *out = p;
    *len = klen;
    return IVM_OK;
}

/* Drops accepted row i and its keys (it was replaced). */
static ivm_rc drop_accepted(ins_ctx *ic, uint32_t i)
{
    ic->dropped[i] = true;
    ivm_value *vals = ic->scratch_vals;
    if (spine_row_decode(ic->acc[i], ic->acclen[i], vals, ic->t->ncols) != (int)ic->t->ncols)
        return IVM_CORRUPT;
    for (uint32_t tag = 0; tag <= ic->t->nuniqs; tag++) {
        if (tag == 0 && ic->t->npk == 0)
            continue;
        uint8_t *key;
        size_t klen;
        ivm_rc rc = row_key(ic, tag, vals, &key, &klen);
        if (rc != IVM_OK)
            return rc;
        kslot *sl = key ? keyset_find(&ic->keys, tag, key, klen) : NULL;
        if (sl != NULL && sl->val == i)
            sl->dead = true;
    }
    return IVM_OK;
}

/* Deletes existing row (whole-row bytes) once: -1 into the change. */
static ivm_rc delete_existing(ins_ctx *ic, const uint8_t *row, size_t len)
{
    if (keyset_find(&ic->deleted, 0, row, len) != NULL)
        return IVM_OK;
    uint8_t *copy = rt_arena_alloc(&ic->x->db->scratch, len ? len : 1);
    if (copy == NULL)
        return IVM_NOMEM;
    memcpy(copy, row, len);
    ivm_rc rc = keyset_put(&ic->deleted, 0, copy, len, 0);
    ivm_value *vals = ic->scratch_vals;
    if (rc == IVM_OK && spine_row_decode(copy, len, vals, ic->t->ncols) != (int)ic->t->ncols)
        rc = IVM_CORRUPT;
    if (rc == IVM_OK)
        rc = push_table_row(ic->t, vals, ic->b, -1);
    return rc;
}

/* OR IGNORE / OR REPLACE: resolves the conflicts of a new row (vals, of
 * the columns' classes) with the table and the statement's earlier rows;
 * *keep_out is false when the row is ignored. */
static ivm_rc resolve_conflicts(ins_ctx *ic, const ivm_value *vals, bool *keep_out)
{
    table *t = ic->t;
    ivm_rc rc = IVM_OK;
    *keep_out = true;
    for (uint32_t tag = 0; tag <= t->nuniqs && rc == IVM_OK; tag++) {
        if (tag == 0 && t->npk == 0)
            continue;
        uint8_t *key;
        size_t klen;
        if ((rc = row_key(ic, tag, vals, &key, &klen)) != IVM_OK || key == NULL)
            continue;
        /* An earlier row of this statement. */
        kslot *sl = keyset_find(&ic->keys, tag, key, klen);
        if (sl != NULL) {
            if (ic->how == PLAN_OR_IGNORE) {
                *keep_out = false;
                return IVM_OK;
            }
            rc = drop_accepted(ic, sl->val);
            continue;
        }
        /* A row of the table (not deleted by this statement yet). */
        spine_cursor *c = tag == 0 ? ic->tcur : ic->ucur[tag - 1];
        const uint8_t *row;
        size_t len;
        if (cursor_has(c, key, klen, &row, &len) &&
            keyset_find(&ic->deleted, 0, row, len) == NULL) {
            if (ic->how == PLAN_OR_IGNORE) {
                *keep_out = false;
                return IVM_OK;
            }
            rc = delete_existing(ic, row, len);
        }
    }
    return rc;
}

/* Records an accepted row (OR IGNORE / OR REPLACE) with its keys. */
static ivm_rc accept_row(ins_ctx *ic, const ivm_value *vals)
{
    table *t = ic->t;
    size_t len = spine_row_size(vals, t->ncols);
    uint8_t *row = rt_arena_alloc(&ic->x->db->scratch, len ? len : 1);
    if (row == NULL)
        return IVM_NOMEM;
    spine_row_encode(vals, t->ncols, row);
    if (ic->nacc == ic->acccap) {
        size_t c1 = ic->acccap, c2 = ic->acccap, c3 = ic->acccap;
        if (ivm_grow((void **)&ic->acc, &c1, ic->nacc + 1, sizeof *ic->acc) != IVM_OK ||
            ivm_grow((void **)&ic->acclen, &c2, ic->nacc + 1, sizeof *ic->acclen) != IVM_OK ||
            ivm_grow((void **)&ic->dropped, &c3, ic->nacc + 1, sizeof *ic->dropped) != IVM_OK)
            return IVM_NOMEM;
        ic->acccap = IVM_MIN(c1, IVM_MIN(c2, c3));
    }
    uint32_t i = (uint32_t)ic->nacc++;
    ic->acc[i] = row;
    ic->acclen[i] = len;
    ic->dropped[i] = false;
    for (uint32_t tag = 0; tag <= t->nuniqs; tag++) {
        if (tag == 0 && t->npk == 0)
            continue;
        uint8_t *key;
        size_t klen;
        ivm_rc rc = row_key(ic, tag, vals, &key, &klen);
        if (rc == IVM_OK && key != NULL)
            rc = keyset_put(&ic->keys, tag, key, klen, i);
        if (rc != IVM_OK)
            return rc;
    }
    return IVM_OK;
}

/* One inserted row: the given values (nvals, going to columns colmap[]),
 * defaults for the others, the next id for a NULL rowid alias, conversion to
 * the columns' classes, NOT NULL as the conflict resolution says, then the
 * row goes into the change (or, with OR IGNORE / OR REPLACE, is resolved
 * against the rows it conflicts with).  A value that does not convert is
 * reported at vpos[i], where given[i] was written; the rest at pos. */
static ivm_rc insert_row(ins_ctx *ic, const uint32_t *colmap, uint32_t nvals,
                         const ivm_value *given, const plan_pos *vpos, plan_pos pos)
{
    exec_ctx *x = ic->x;
    table *t = ic->t;
    ivm_value *vals = rt_arena_alloc(&x->db->scratch, sizeof *vals * (t->ncols + 1));
    if (vals == NULL)
        return IVM_NOMEM;
    bool *named = rt_arena_alloc(&x->db->scratch, sizeof *named * (t->ncols + 1));
    if (named == NULL)
        return IVM_NOMEM;
    memset(named, 0, sizeof *named * (t->ncols + 1));
    for (uint32_t i = 0; i < nvals; i++)
        named[colmap[i]] = true;
    for (uint32_t c = 0; c < t->ncols; c++) {
        vals[c] = ivm_value_null();
        /* Defaults for columns not named and, with OR REPLACE, for a NULL
         * in a NOT NULL column (as SQLite). */
        bool want_default = !named[c];
        if (named[c]) {
            const ivm_value *g = NULL;
            for (uint32_t i = 0; i < nvals; i++)
                if (colmap[i] == c)
                    g = &given[i];
            vals[c] = *g;
            want_default = vals[c].type == IVM_TNULL && t->not_null[c] &&
                           ic->how == PLAN_OR_REPLACE &&
                           !(t->rowid_alias && c == t->pk[0]);
        }
        if (want_default && t->defaults[c] != NULL) {
            ivm_rc rc = dbsp_expr_eval(t->defaults[c], NULL, &x->db->scratch, &vals[c], x->err);
            if (rc != IVM_OK)
                return rc;
        }
    }
    if (t->rowid_alias) {
        uint32_t k = t->pk[0];
        if (vals[k].type == IVM_TNULL) {
            if (!ic->max_known) {
                ivm_rc rc = max_rowid(ic);
                if (rc != IVM_OK)
                    return rc;
            }
            if (ic->have_max && ic->max_id == INT64_MAX)
                return ivm_err_set(x->err, IVM_CONSTRAINT, pos.line, pos.col,
                                   "cannot choose an id for %s.%s: the largest is in use "
                                   "(ivm does not pick random ids)",
                                   t->name, t->col_names[k]);
            vals[k] = ivm_value_int(ic->have_max ? ic->max_id + 1 : 1);
        }
    }
    if (ic->how == PLAN_OR_IGNORE) {
        /* A NULL in a NOT NULL column makes the row ignored. */
        for (uint32_t c = 0; c < t->ncols; c++)
            if (vals[c].type == IVM_TNULL && t->not_null[c])
                return IVM_OK;
    }
    for (uint32_t c = 0; c < t->ncols; c++) {
        plan_pos at = pos;
        for (uint32_t i = 0; i < nvals; i++)
            if (colmap[i] == c)
                at = vpos[i];
        ivm_rc rc = coerce(x->db, t, c, &vals[c], at, x->err);
        if (rc != IVM_OK)
            return rc;
    }
    if (t->rowid_alias) {
        /* Explicit ids count too: the next chosen one follows them. */
        int64_t id = vals[t->pk[0]].u.i;
        if (!ic->have_max || id > ic->max_id) {
            ic->max_id = id;
            ic->have_max = true;
        }
    }
    if (ic->how != PLAN_OR_IGNORE && ic->how != PLAN_OR_REPLACE)
        return push_table_row(t, vals, ic->b, 1);
    bool keep;
    ivm_rc rc = resolve_conflicts(ic, vals, &keep);
    if (rc == IVM_OK && keep)
        rc = accept_row(ic, vals);
    return rc;
}

/* Ends an INSERT: the accepted rows of OR IGNORE / OR REPLACE go into the
 * change, which is then checked and applied. */
static ivm_rc insert_finish(ins_ctx *ic)
{
    ivm_rc rc = IVM_OK;
    for (size_t i = 0; i < ic->nacc && rc == IVM_OK; i++) {
        if (ic->dropped[i])
            continue;
        if (spine_row_decode(ic->acc[i], ic->acclen[i], ic->scratch_vals, ic->t->ncols) !=
            (int)ic->t->ncols)
            return IVM_CORRUPT;
        rc = push_table_row(ic->t, ic->scratch_vals, ic->b, 1);
    }
    if (rc == IVM_OK)
        rc = finish_change(ic->t, ic->b, ic->x->err);
    return rc;
}

/* Where INSERT ... SELECT writes each of its ncol values: the result
 * columns of the query's first member (a compound's columns are the first
 * member's), or the SELECT itself when a `*` stands among them. */
static void select_positions(const plan_select *sel, uint32_t ncol, plan_pos *vpos_out)
{
    const plan_select *first = sel;
    while (first->prior != NULL)
        first = first->prior;
    bool each = first->ncols == ncol;
    for (uint32_t i = 0; each && i < ncol; i++)
        each = first->cols[i].expr->kind != PLAN_E_STAR;
    for (uint32_t i = 0; i < ncol; i++)
        vpos_out[i] = each ? first->cols[i].expr->pos : first->pos;
}

static ivm_rc exec_insert(exec_ctx *x, const plan_stmt *st)
{
    table *t = NULL;
    ivm_rc rc = find_table(x, st->name, st->name_pos, &t);
    if (rc != IVM_OK)
        return rc;
    if (st->on_conflict == PLAN_OR_FAIL || st->on_conflict == PLAN_OR_ROLLBACK)
        return ivm_err_set(x->err, IVM_UNSUPPORTED, st->pos.line, st->pos.col,
                           "INSERT OR %s is not supported yet (ABORT, IGNORE and REPLACE are)",
                           st->on_conflict == PLAN_OR_FAIL ? "FAIL" : "ROLLBACK");
    uint32_t ncol = st->ncols ? st->ncols : t->ncols;
    uint32_t *colmap = rt_arena_alloc(&x->db->scratch, sizeof *colmap * (ncol + 1));
    ivm_value *vals = rt_arena_alloc(&x->db->scratch, sizeof *vals * (ncol + 1));
    plan_pos *vpos = rt_arena_alloc(&x->db->scratch, sizeof *vpos * (ncol + 1));
    if (colmap == NULL || vals == NULL || vpos == NULL)
        return IVM_NOMEM;
    for (uint32_t i = 0; i < ncol; i++) {
        if (st->ncols == 0) {
            colmap[i] = i;
            continue;
        }
        uint32_t c = 0;
        while (c < t->ncols && strcasecmp(t->col_names[c], st->cols[i]) != 0)
            c++;
        if (c == t->ncols)
            return ivm_err_set(x->err, IVM_SCHEMA, st->col_pos[i].line, st->col_pos[i].col,
                               "table %s has no column named %s", t->name, st->cols[i]);
        for (uint32_t j = 0; j < i; j++)
            if (colmap[j] == c)
                return ivm_err_set(x->err, IVM_SCHEMA, st->col_pos[i].line, st->col_pos[i].col,
                                   "column %s is named twice", st->cols[i]);
        colmap[i] = c;
    }
    spine_builder b;
    spine_builder_init(&b);
    spine_builder_set_filters(&b, false); /* a table's change: no exact seeks */
    ins_ctx ic;
    memset(&ic, 0, sizeof ic);
    ic.x = x;
    ic.t = t;
    ic.how = st->on_conflict;
    ic.b = &b;
    if (ic.how == PLAN_OR_IGNORE || ic.how == PLAN_OR_REPLACE) {
        ic.scratch_vals = ivm_calloc(t->ncols + 1, sizeof *ic.scratch_vals);
        ic.ucur = ivm_calloc(t->nuniqs + 1, sizeof *ic.ucur);
        rc = ic.scratch_vals && ic.ucur ? table_cursor(t, &ic.tcur) : IVM_NOMEM;
        for (uint32_t k = 0; k < t->nuniqs && rc == IVM_OK; k++) {
            const spine *us = t->uniqs[k].data;
            spine_batch *extra = t->uniqs[k].pending;
            rc = spine_cursor_new(&us, 1, &extra, 1, &ic.ucur[k]);
        }
    }
    if (rc == IVM_OK && st->select != NULL) {
        plan_query *q = NULL;
        spine_batch *rows = NULL;
        rc = exec_select_rows(x, st->select, &q, &rows);
        if (rc == IVM_OK && q->ncols != ncol)
            rc = ivm_err_set(x->err, IVM_SCHEMA, st->pos.line, st->pos.col,
                             "table %s has %u columns but %u values were supplied", t->name,
                             ncol, q->ncols);
        /* Rows go in in the query's order (ORDER BY, LIMIT), which decides
         * the ids a rowid alias gets. */
        ordered o = {0};
        if (rc == IVM_OK)
            rc = order_rows(q, rows, &o, x->err);
        if (rc == IVM_OK)
            select_positions(st->select, ncol, vpos);
        for (size_t i = o.from; rc == IVM_OK && i < o.to; i++)
            rc = insert_row(&ic, colmap, ncol, o.order[i], vpos, st->pos);
        ordered_fini(&o);
        spine_batch_unref(rows);
        plan_query_free(q);
    } else if (rc == IVM_OK) {
        for (uint32_t r = 0; r < st->nrows && rc == IVM_OK; r++) {
            const plan_expr_list *row = &st->rows[r];
            if (row->n != ncol) {
                rc = ivm_err_set(x->err, IVM_SCHEMA, st->pos.line, st->pos.col,
                                 "table %s has %u columns but %u values were supplied",
                                 t->name, ncol, row->n);
                break;
            }
            for (uint32_t i = 0; i < ncol && rc == IVM_OK; i++) {
                dbsp_expr *e = NULL;
                rc = plan_scalar(row->items[i], NULL, &e, x->err);
                if (rc == IVM_OK)
                    rc = dbsp_expr_eval(e, NULL, &x->db->scratch, &vals[i], x->err);
                if (rc == IVM_OK && vals[i].type == IVM_TTEXT) {
                    /* The expression owns its constant's text: copy it out. */
                    char *p = rt_arena_strndup(&x->db->scratch, vals[i].u.s.p, vals[i].u.s.n);
                    if (p == NULL)
                        rc = IVM_NOMEM;
                    else
                        vals[i].u.s.p = p;
                }
                dbsp_expr_free(e);
            }
            for (uint32_t i = 0; i < ncol; i++)
                vpos[i] = row->items[i]->pos;
            if (rc == IVM_OK)
                rc = insert_row(&ic, colmap, ncol, vals, vpos, row->items[0]->pos);
        }
    }
    if (rc == IVM_OK)
        rc = insert_finish(&ic);
    ins_fini(&ic);
    spine_builder_fini(&b);
    return rc;
}

/* A WHERE whose AND-ed conditions pin every PRIMARY KEY column to a
 * constant of the column's class (`id = 5 AND ...`): writes the key's
 * encoding at buf and returns its length, so that DELETE and UPDATE seek
 * that one key instead of scanning; 0 otherwise.  The whole WHERE is still
 * evaluated on the row found. */
static size_t pinned_key(const table *t, const dbsp_expr *where, uint8_t *buf, size_t cap)
{
    enum { MAXPK = 16, MAXSTACK = 64 };
    if (t->npk == 0 || t->npk > MAXPK || where == NULL)
        return 0;
    const ivm_value *pin[MAXPK] = {0};
    const dbsp_expr *stack[MAXSTACK];
    size_t sp = 0;
    stack[sp++] = where;
    while (sp > 0) {
        const dbsp_expr *e = stack[--sp];
        if (e->op == DBSP_X_AND && e->nargs == 2) {
            if (sp + 2 > MAXSTACK)
                continue; /* too deep to look through: those terms just filter */
            stack[sp++] = e->args[0];
            stack[sp++] = e->args[1];
            continue;
        }
        if (e->op != DBSP_X_EQ || e->nargs != 2)
            continue;
        const dbsp_expr *col = e->args[0], *k = e->args[1];
        if (col->op != DBSP_X_COL) {
            col = e->args[1];
            k = e->args[0];
        }
        if (col->op != DBSP_X_COL || k->op != DBSP_X_CONST || col->col >= t->ncols ||
            k->k.type != t->col_types[col->col])
            continue;
        for (uint32_t p = 0; p < t->npk; p++)
            if (t->pk[p] == col->col)
                pin[p] = &k->k;
    }
    size_t len = 0;
    for (uint32_t p = 0; p < t->npk; p++) {
        if (pin[p] == NULL)
            return 0;
        len += spine_row_size(pin[p], 1);
    }
    if (len > cap)
        return 0;
    size_t o = 0;
    for (uint32_t p = 0; p < t->npk; p++)
        o += spine_value_encode(pin[p], buf + o);
    return o;
}

/* DELETE and UPDATE: read every current row (or the one row a pinned
 * PRIMARY KEY names), keep those WHERE selects. */
static ivm_rc exec_modify(exec_ctx *x, const plan_stmt *st)
{
    table *t = NULL;
    ivm_rc rc = find_table(x, st->name, st->name_pos, &t);
    if (rc != IVM_OK)
        return rc;
    bool update = st->kind == PLAN_S_UPDATE;
    dbsp_expr *where = NULL;
    dbsp_expr **set = NULL;
    uint32_t *setcol = NULL;
    spine_cursor *c = NULL;
    spine_builder b;
    spine_builder_init(&b);
    spine_builder_set_filters(&b, false); /* a table's change: no exact seeks */
    ivm_value *vals = ivm_calloc(2 * (size_t)t->ncols + 2, sizeof *vals);
    ivm_value *nv = vals + t->ncols + 1;
    if (vals == NULL) {
        rc = IVM_NOMEM;
        goto done;
    }
    if (st->where != NULL && (rc = plan_scalar(st->where, &t->rel, &where, x->err)) != IVM_OK)
        goto done;
    if (update) {
        set = ivm_calloc(st->set.n + 1, sizeof *set);
        setcol = ivm_calloc(st->set.n + 1, sizeof *setcol);
        if (set == NULL || setcol == NULL) {
            rc = IVM_NOMEM;
            goto done;
        }
        for (uint32_t i = 0; i < st->set.n; i++) {
            uint32_t col = 0;
            while (col < t->ncols && strcasecmp(t->col_names[col], st->cols[i]) != 0)
                col++;
            if (col == t->ncols) {
                rc = ivm_err_set(x->err, IVM_SCHEMA, st->col_pos[i].line, st->col_pos[i].col,
                                 "no such column: %s", st->cols[i]);
                goto done;
            }
            setcol[i] = col;
            rc = plan_scalar(st->set.items[i], &t->rel, &set[i], x->err);
            if (rc != IVM_OK)
                goto done;
        }
    }
    rc = table_cursor(t, &c);
    if (rc != IVM_OK)
        goto done;
    uint8_t keybuf[512];
    size_t klen = pinned_key(t, where, keybuf, sizeof keybuf);
    if (klen > 0)
        spine_cursor_seek_key(c, keybuf, klen);
    for (; rc == IVM_OK && spine_cursor_key_valid(c); spine_cursor_step_key(c)) {
        if (klen > 0) {
            size_t ck;
            const uint8_t *cur = spine_cursor_key(c, &ck);
            if (spine_row_cmp(cur, ck, keybuf, klen) != 0)
                break; /* the pinned key is not there */
        }
        for (; rc == IVM_OK && spine_cursor_val_valid(c); spine_cursor_step_val(c)) {
            /* What the previous row left in scratch is in the builder now:
             * memory stays bounded however large the table. */
            rt_arena_reset(&x->db->scratch);
            int64_t w = spine_cursor_weight(c);
            size_t len;
            const uint8_t *row = table_entry_row(t, c, &len);
            if (spine_row_decode(row, len, vals, t->ncols) != (int)t->ncols) {
                rc = ivm_err_set(x->err, IVM_CORRUPT, 0, 0, "a row of %s does not decode", t->name);
                break;
            }
            if (where != NULL) {
                ivm_value wv;
                rc = dbsp_expr_eval(where, vals, &x->db->scratch, &wv, x->err);
                if (rc != IVM_OK || dbsp_value_truth(&wv) != 1)
                    continue;
            }
            rc = push_table_row(t, vals, &b, -w);
            if (rc != IVM_OK || !update)
                continue;
            memcpy(nv, vals, sizeof(ivm_value) * t->ncols);
            for (uint32_t i = 0; i < st->set.n && rc == IVM_OK; i++)
                rc = dbsp_expr_eval(set[i], vals, &x->db->scratch, &nv[setcol[i]], x->err);
            for (uint32_t col = 0; col < t->ncols && rc == IVM_OK; col++) {
                /* A value that does not convert is reported where SET
                 * wrote it (the last assignment to the column wins). */
                plan_pos at = st->pos;
                for (uint32_t i = 0; i < st->set.n; i++)
                    if (setcol[i] == col)
                        at = st->set.items[i]->pos;
                rc = coerce(x->db, t, col, &nv[col], at, x->err);
            }
            if (rc == IVM_OK)
                rc = push_table_row(t, nv, &b, w);
        }
        if (klen > 0)
            break; /* one key only */
    }
    if (rc == IVM_OK)
        rc = finish_change(t, &b, x->err);
done:
    spine_cursor_free(c);
    spine_builder_fini(&b);
    dbsp_expr_free(where);
    if (set != NULL)
        for (uint32_t i = 0; i < st->set.n; i++)
            dbsp_expr_free(set[i]);
    ivm_free(set);
    ivm_free(setcol);
    ivm_free(vals);
    return rc;
}

/* ---- Queries ------------------------------------------------------------------------ */

static ivm_rc exec_select_rows(exec_ctx *x, const plan_select *sel, plan_query **q_out,
                               spine_batch **rows_out)
{
    plan_query *q = NULL;
    ivm_rc rc = plan_select_query(sel, &x->db->pcat, false, &q, x->err);
    if (rc != IVM_OK)
        return rc;
    spine_batch *rows = NULL;
    rc = run_once(x->db, q, &rows, x->err);
    if (rc != IVM_OK) {
        plan_query_free(q);
        return rc;
    }
    *q_out = q;
    *rows_out = rows;
    return IVM_OK;
}

static ivm_rc exec_select(exec_ctx *x, const plan_stmt *st)
{
    plan_query *q = NULL;
    spine_batch *rows = NULL;
    ivm_rc rc = exec_select_rows(x, st->select, &q, &rows);
    if (rc != IVM_OK)
        return rc;
    rc = deliver(q, rows, x->fn, x->arg, x->err);
    spine_batch_unref(rows);
    plan_query_free(q);
    return rc;
}

/* EXPLAIN prints the circuit, one row per operator; EXPLAIN DOT prints it as
 * a Graphviz digraph named name, one row per line. */
static ivm_rc explain_plan(exec_ctx *x, const dbsp_plan *p, bool dot, const char *name)
{
    size_t need = dot ? dbsp_plan_dot(p, name, NULL, 0) : dbsp_plan_describe(p, NULL, 0);
    char *buf = ivm_malloc(need + 1);
    if (buf == NULL)
        return IVM_NOMEM;
    if (dot)
        dbsp_plan_dot(p, name, buf, need + 1);
    else
        dbsp_plan_describe(p, buf, need + 1);
    static const char *const text_names[] = {"circuit"}, *const dot_names[] = {"dot"};
    const char *const *names = dot ? dot_names : text_names;
    char *line = buf;
    while (*line) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        ivm_value v = ivm_value_text(line, (uint32_t)n);
        if (x->fn && x->fn(x->arg, 1, &v, names) != 0)
            break;
        if (nl == NULL)
            break;
        line = nl + 1;
    }
    ivm_free(buf);
    return IVM_OK;
}

static ivm_rc exec_explain(exec_ctx *x, const plan_stmt *st)
{
    if (st->explained == NULL) {
        relent *r = rel_find(x->db, st->name);
        if (r == NULL || r->v == NULL)
            return ivm_err_set(x->err, IVM_SCHEMA, st->name_pos.line, st->name_pos.col,
                               "no such view: %s", st->name);
        return explain_plan(x, r->v->q->plan, st->explain_dot, r->v->name);
    }
    const plan_stmt *e = st->explained;
    const plan_select *sel = e->kind == PLAN_S_SELECT || e->kind == PLAN_S_CREATE_VIEW ? e->select
                                                                                          : NULL;
    if (sel == NULL)
        return ivm_err_set(x->err, IVM_UNSUPPORTED, st->pos.line, st->pos.col,
                           "EXPLAIN shows the circuit of a SELECT, a CREATE VIEW or a view");
    plan_query *q = NULL;
    ivm_rc rc = plan_select_query(sel, &x->db->pcat, e->kind == PLAN_S_CREATE_VIEW, &q, x->err);
    if (rc != IVM_OK)
        return rc;
    rc = explain_plan(x, q->plan, st->explain_dot,
                      e->kind == PLAN_S_CREATE_VIEW ? e->name : "query");
    plan_query_free(q);
    return rc;
}

/* ---- Transactions --------------------------------------------------------------------- */

static void txn_discard(ivm_db *db)
{
    for (size_t i = 0; i < db->nrels; i++) {
        table *t = db->rels[i].t;
        if (t != NULL) {
            spine_batch_unref(t->pending);
            t->pending = NULL;
            for (uint32_t k = 0; k < t->nuniqs; k++) {
                spine_batch_unref(t->uniqs[k].pending);
                t->uniqs[k].pending = NULL;
            }
        }
    }
    db->in_txn = false;
}

/* True if view v's input k, which reads table t, is fed t's change as the
 * table's own entries (t->entries) rather than as input rows (t->delta):
 * without a PRIMARY KEY an entry is the row keyed by itself (E3), and an
 * input that only maps read takes it so (dbsp_plan_input_rows_whole), so
 * the commit's batch goes to the view as it is instead of being copied
 * with its keys emptied (Nexmark q0..q2 read bids so: the copy, mostly
 * the page faults of its fresh memory, was about a tenth of the pushing
 * thread's time). */
static bool entry_input(const table *t, const view *v, uint32_t k)
{
    return t->npk == 0 && dbsp_plan_input_rows_whole(v->q->plan, v->q->inputs[k].node);
}

/* Feeds the tables' deltas to the views reading them and runs one circuit
 * step: the views touched step in creation order on every worker, each
 * view's change going to the views reading it on the same worker (keeps
 * E2).  A view whose step fails is marked broken (E5); the commit stands.
 * Views' deltas are gathered only for subscriptions. */
static ivm_rc views_step(ivm_db *db, ivm_err *err)
{
    ivm_rc rc = IVM_OK;
    for (size_t i = 0; i < db->nrels; i++) {
        view *v = db->rels[i].v;
        if (v == NULL || v->broken != IVM_OK)
            continue;
        for (uint32_t k = 0; k < v->q->ninputs; k++) {
            relent *r = rel_get(db, v->q->inputs[k].rel_id);
            if (r == NULL || r->t == NULL)
                continue; /* views' changes come through links */
            /* The delta's rows were checked as they were pushed or
             * inserted (a table's columns are the input's). */
            ivm_rc vrc = IVM_OK;
            if (entry_input(r->t, v, k)) {
                if (r->t->entries != NULL && r->t->entries->n > 0)
                    vrc = dbsp_seg_feed_take_row_keyed(v->seg, v->q->inputs[k].node,
                                                       spine_batch_ref(r->t->entries));
            } else if (r->t->delta != NULL && r->t->delta->n > 0) {
                vrc = dbsp_seg_feed_take_shaped(v->seg, v->q->inputs[k].node,
                                                spine_batch_ref(r->t->delta));
            }
            if (vrc == IVM_NOMEM)
                return ivm_err_set(err, vrc, 0, 0, "out of memory feeding view %s", v->name);
        }
    }
    ivm_err cerr;
    ivm_err_clear(&cerr);
    ivm_rc crc = dbsp_circuit_step(db->circuit, &cerr);
    for (size_t i = 0; i < db->nrels; i++) {
        view *v = db->rels[i].v;
        if (v == NULL || v->broken != IVM_OK)
            continue;
        ivm_err verr;
        ivm_err_clear(&verr);
        ivm_rc vrc = dbsp_seg_status(v->seg, &verr);
        if (vrc == IVM_OK && db->api.subs != NULL && dbsp_seg_stepped(v->seg)) {
            spine_batch *out = NULL;
            vrc = dbsp_seg_delta(v->seg, v->q->output, &out);
            if (vrc == IVM_OK) {
                vrc = spine_batch_rows(out, &v->delta);
                spine_batch_unref(out);
            }
            if (vrc != IVM_OK)
                ivm_err_set(&verr, vrc, 0, 0, "%s", ivm_rc_str(vrc));
        }
        if (vrc == IVM_OK)
            continue;
        /* A view failed with a view it reads (D13) says so as reading
         * that view would, whether it failed in this step or later. */
        for (uint32_t k = 0; k < v->q->ninputs; k++) {
            relent *r = rel_get(db, v->q->inputs[k].rel_id);
            if (r != NULL && r->v != NULL && r->v->broken != IVM_OK) {
                ivm_err_clear(&verr);
                ivm_err_set(&verr, r->v->broken, 0, 0, "view %s is broken: %s", r->v->name,
                            r->v->broken_msg);
                vrc = r->v->broken;
                break;
            }
        }
        /* The step failed half-way: the view's contents are unknown.  The
         * commit stands, as it would in SQLite, where the error shows when
         * the query runs: reading the view reports it, and the circuit
         * process's failure (E5) records it. */
        view_fail(db, v, vrc, &verr);
        rt_log("view %s could not be maintained: %s", v->name, v->broken_msg);
        if (vrc == IVM_NOMEM && rc == IVM_OK) {
            ivm_err_set(err, vrc, 0, 0, "view %s could not be maintained: %s", v->name,
                        v->broken_msg);
            rc = vrc;
        }
    }
    if (crc != IVM_OK && rc == IVM_OK) {
        ivm_err_set(err, crc, 0, 0, "%s", cerr.msg);
        rc = crc;
    }
    return rc;
}

/* Which forms of table t's change this commit needs: as input rows
 * (*rows_out: a view that is not broken reads t through an input that is
 * not an entry_input, or, since any of them may be on t, a subscription
 * exists) and as the table's entries (*entries_out: some view's
 * entry_input reads t). */
static void delta_read(const ivm_db *db, const table *t, bool *rows_out, bool *entries_out)
{
    bool rows = db->api.subs != NULL, entries = false;
    for (size_t i = 0; i < db->nrels; i++) {
        const view *v = db->rels[i].v;
        if (v == NULL || v->broken != IVM_OK)
            continue;
        for (uint32_t k = 0; k < v->q->ninputs; k++) {
            if (v->q->inputs[k].rel_id != t->rel.id)
                continue;
            if (entry_input(t, v, k))
                entries = true;
            else
                rows = true;
        }
    }
    *rows_out = rows;
    *entries_out = entries;
}

/* Makes the transaction's changes permanent and brings every view up to
 * date in one circuit step (keeps E2).  A table's delta as input rows is
 * made only when something reads it. */
static ivm_rc txn_commit(ivm_db *db, ivm_err *err)
{
    ivm_rc rc = IVM_OK;
    bool any = false;
    for (size_t i = 0; i < db->nrels && rc == IVM_OK; i++) {
        table *t = db->rels[i].t;
        if (t == NULL || t->pending == NULL)
            continue;
        bool rows, entries;
        delta_read(db, t, &rows, &entries);
        if (rows)
            rc = table_delta_rows(t, t->pending, &t->delta);
        if (entries)
            t->entries = spine_batch_ref(t->pending);
        if (rc != IVM_OK)
            break;
        rc = spine_insert_take(t->data, t->pending);
        t->pending = NULL;
        for (uint32_t k = 0; k < t->nuniqs; k++) {
            if (t->uniqs[k].pending == NULL)
                continue;
            ivm_rc urc = spine_insert_take(t->uniqs[k].data, t->uniqs[k].pending);
            t->uniqs[k].pending = NULL;
            if (rc == IVM_OK)
                rc = urc;
        }
        any = true;
    }
    db->in_txn = false;
    uint64_t step_start = rt_now_ns();
    if (rc == IVM_OK && any)
        rc = views_step(db, err);
    if (any)
        api_commit_done(db, step_start);
    /* Deltas live for one commit. */
    for (size_t i = 0; i < db->nrels; i++) {
        if (db->rels[i].t) {
            spine_batch_unref(db->rels[i].t->delta);
            db->rels[i].t->delta = NULL;
            spine_batch_unref(db->rels[i].t->entries);
            db->rels[i].t->entries = NULL;
        }
        if (db->rels[i].v) {
            spine_batch_unref(db->rels[i].v->delta);
            db->rels[i].v->delta = NULL;
        }
    }
    if (rc == IVM_OK && err != NULL && err->rc != IVM_OK)
        rc = err->rc;
    return rc;
}

/* ---- Dispatch --------------------------------------------------------------------------- */

static void circuit_recover(ivm_db *db);

static ivm_rc exec_stmt(exec_ctx *x, const plan_stmt *st)
{
    ivm_db *db = x->db;
    ivm_rc rc;
    circuit_recover(db);
    switch (st->kind) {
    case PLAN_S_CREATE_TABLE:
        return exec_create_table(x, st);
    case PLAN_S_CREATE_VIEW:
        return exec_create_view(x, st);
    case PLAN_S_CREATE_INDEX:
        return exec_create_index(x, st);
    case PLAN_S_DROP_TABLE:
    case PLAN_S_DROP_VIEW:
    case PLAN_S_DROP_INDEX:
        return exec_drop(x, st);
    case PLAN_S_INSERT:
    case PLAN_S_DELETE:
    case PLAN_S_UPDATE:
        rc = st->kind == PLAN_S_INSERT ? exec_insert(x, st) : exec_modify(x, st);
        if (rc == IVM_OK && !db->in_txn)
            rc = txn_commit(db, x->err);
        else if (rc != IVM_OK && !db->in_txn)
            txn_discard(db);
        return rc;
    case PLAN_S_SELECT:
        return exec_select(x, st);
    case PLAN_S_BEGIN:
        if (db->in_txn)
            return ivm_err_set(x->err, IVM_BUSY, st->pos.line, st->pos.col,
                               "cannot start a transaction within a transaction");
        db->in_txn = true;
        return IVM_OK;
    case PLAN_S_COMMIT:
        if (!db->in_txn)
            return ivm_err_set(x->err, IVM_INVALID, st->pos.line, st->pos.col,
                               "cannot commit - no transaction is active");
        return txn_commit(db, x->err);
    case PLAN_S_ROLLBACK:
        if (!db->in_txn)
            return ivm_err_set(x->err, IVM_INVALID, st->pos.line, st->pos.col,
                               "cannot rollback - no transaction is active");
        txn_discard(db);
        return IVM_OK;
    case PLAN_S_EXPLAIN:
        return exec_explain(x, st);
    default:
        return ivm_err_set(x->err, IVM_UNSUPPORTED, st->pos.line, st->pos.col,
                           "this statement is not supported yet");
    }
}

ivm_rc ivm_exec(ivm_db *db, const char *sql, size_t len, uint32_t first_line, ivm_row_fn row_fn,
                void *arg, ivm_err *err)
{
    ivm_err local;
    if (err == NULL)
        err = &local;
    ivm_err_clear(err);
    sql_parser *p = NULL;
    ivm_rc rc = sql_parser_new(sql, len, first_line ? first_line : 1, &p);
    if (rc != IVM_OK)
        return ivm_err_set(err, rc, 0, 0, "out of memory");
    exec_ctx x = {db, row_fn, arg, err};
    for (;;) {
        plan_stmt *st = NULL;
        rc = sql_parse_next(p, &st, err);
        if (rc != IVM_OK || st == NULL)
            break;
        rc = api_flush(db, err);
        if (rc == IVM_OK)
            rc = limit_check_stmt(db, st, err);
        if (rc == IVM_OK)
            rc = exec_stmt(&x, st);
        rt_arena_reset(&db->scratch);
        if (rc != IVM_OK) {
            if (err->rc == IVM_OK)
                ivm_err_set(err, rc, st->pos.line, st->pos.col, "%s", ivm_rc_str(rc));
            break;
        }
    }
    sql_parser_free(p);
    return rc;
}

/* ---- Introspection ---------------------------------------------------------------- */

static void rel_stats_from(ivm_rel_stats *out, const spine_stats *st)
{
    out->rows = st->rows;
    out->bytes = st->bytes;
    out->batches = st->batches;
    for (unsigned l = 0; l < IVM_STATS_LEVELS && l < SPINE_MAX_LEVELS; l++)
        out->level_batches[l] = st->level_batches[l];
    out->pending = st->pending;
    out->merges = st->merges;
    out->merge_rows = st->merge_rows;
    out->waits = st->waits;
    out->wait_ns = st->wait_ns;
}

ivm_rc ivm_stats(ivm_db *db, void (*fn)(void *arg, const ivm_rel_stats *st), void *arg)
{
    if (db == NULL || fn == NULL)
        return IVM_INVALID;
    for (size_t i = 0; i < db->nrels; i++) {
        relent *r = &db->rels[i];
        if (r->t == NULL && r->v == NULL)
            continue;
        spine_stats st;
        memset(&st, 0, sizeof st);
        ivm_rel_stats out;
        memset(&out, 0, sizeof out);
        if (r->t != NULL) {
            spine_stats_get(r->t->data, &st);
            out.name = r->t->name;
        } else {
            if (r->v->seg != NULL)
                dbsp_seg_stats(r->v->seg, &st);
            out.name = r->v->name;
            out.is_view = true;
        }
        rel_stats_from(&out, &st);
        fn(arg, &out);
    }
    return IVM_OK;
}

/* ---- Processes: catalog, circuit, session (E5) ------------------------------------- */

/* The catalog process owns the assertions "catalog.table.<name>" and
 * "catalog.view.<name>" (value: the statement's SQL) in the engine's
 * dataspace.  Its source of truth is the SQLite catalog database, so a
 * restarted catalog re-asserts everything from there.  Called with
 * procs.mu held. */
static void catalog_forget(engine_procs *pr)
{
    for (size_t i = 0; i < pr->nasserted; i++)
        ivm_free(pr->asserted[i]);
    pr->nasserted = 0;
}

static bool catalog_has(const engine_procs *pr, const char *key)
{
    for (size_t i = 0; i < pr->nasserted; i++)
        if (strcmp(pr->asserted[i], key) == 0)
            return true;
    return false;
}

/* Makes the catalog's assertions equal the SQLite catalog's tables and
 * views.  Called after every DDL statement and when the catalog starts,
 * with procs.mu held.  A failure injected here (IVM_FAULT catalog:fail@N)
 * ends the catalog process; its assertions are retracted by the runtime and
 * its restart puts them back. */
static void catalog_sync(ivm_db *db)
{
    engine_procs *pr = &db->procs;
    if (pr->catalog_owner == 0 || pr->ds == NULL)
        return; /* down: the restart will sync */
    if (rt_fault("catalog", "fail")) {
        pr->catalog_owner = 0;
        catalog_forget(pr);
        rt_proc_exit(pr->catalog, RT_EXIT_FAILED, "injected fault catalog:fail");
        return;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->cat,
                           "SELECT type, name, sql FROM sqlite_master "
                           "WHERE type IN ('table', 'view') ORDER BY rowid",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    char **now = NULL;
    size_t nnow = 0, cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *sql = (const char *)sqlite3_column_text(st, 2);
        if (type == NULL || name == NULL)
            continue;
        size_t klen = strlen(type) + strlen(name) + 16;
        char *key = ivm_malloc(klen);
        if (key == NULL || ivm_grow((void **)&now, &cap, nnow + 1, sizeof *now) != IVM_OK) {
            ivm_free(key);
            break;
        }
        snprintf(key, klen, "catalog.%s.%s", type, name);
        now[nnow++] = key;
        if (!catalog_has(pr, key))
            rt_ds_assert(pr->ds, pr->catalog_owner, key, sql ? sql : "", sql ? strlen(sql) : 0);
    }
    sqlite3_finalize(st);
    for (size_t i = 0; i < pr->nasserted; i++) {
        bool kept = false;
        for (size_t j = 0; j < nnow && !kept; j++)
            kept = strcmp(now[j], pr->asserted[i]) == 0;
        if (!kept)
            rt_ds_retract(pr->ds, pr->catalog_owner, pr->asserted[i]);
    }
    catalog_forget(pr);
    ivm_free(pr->asserted);
    pr->asserted = now;
    pr->nasserted = nnow;
    pr->asserted_cap = cap;
}

/* After one DDL statement: only the relation it named can have changed,
 * so only its key is looked up (an indexed query) and asserted or
 * retracted; a whole sync per statement would cost O(catalog) each. */
static void catalog_sync_name(ivm_db *db, const char *name)
{
    engine_procs *pr = &db->procs;
    if (pr->catalog_owner == 0 || pr->ds == NULL || name[0] == '\0')
        return; /* down (the restart syncs everything), or nothing named */
    if (rt_fault("catalog", "fail")) {
        pr->catalog_owner = 0;
        catalog_forget(pr);
        rt_proc_exit(pr->catalog, RT_EXIT_FAILED, "injected fault catalog:fail");
        return;
    }
    char keys[2][300];
    snprintf(keys[0], sizeof keys[0], "catalog.table.%s", name);
    snprintf(keys[1], sizeof keys[1], "catalog.view.%s", name);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->cat,
                           "SELECT type, sql FROM sqlite_master "
                           "WHERE type IN ('table', 'view') AND name = ?1 COLLATE NOCASE",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    const char *type = NULL, *sql = NULL;
    if (sqlite3_step(st) == SQLITE_ROW) {
        type = (const char *)sqlite3_column_text(st, 0);
        sql = (const char *)sqlite3_column_text(st, 1);
    }
    for (int k = 0; k < 2; k++) {
        bool want = type != NULL && strcmp(type, k == 0 ? "table" : "view") == 0;
        size_t at = pr->nasserted;
        for (size_t i = 0; i < pr->nasserted; i++)
            if (strcasecmp(pr->asserted[i], keys[k]) == 0)
                at = i;
        bool have = at < pr->nasserted;
        if (want && !have) {
            char *key = ivm_strndup(keys[k], strlen(keys[k]));
            if (key == NULL || ivm_grow((void **)&pr->asserted, &pr->asserted_cap,
                                        pr->nasserted + 1, sizeof *pr->asserted) != IVM_OK) {
                ivm_free(key);
                continue;
            }
            pr->asserted[pr->nasserted++] = key;
            rt_ds_assert(pr->ds, pr->catalog_owner, key, sql ? sql : "", sql ? strlen(sql) : 0);
        } else if (!want && have) {
            rt_ds_retract(pr->ds, pr->catalog_owner, pr->asserted[at]);
            ivm_free(pr->asserted[at]);
            pr->asserted[at] = pr->asserted[--pr->nasserted];
        }
    }
    sqlite3_finalize(st);
}

static ivm_rc catalog_start(rt_proc *p, void *arg)
{
    ivm_db *db = arg;
    engine_procs *pr = &db->procs;
    pthread_mutex_lock(&pr->mu);
    pr->catalog = p;
    catalog_forget(pr); /* the runtime retracted the last run's assertions */
    pr->catalog_owner = rt_proc_id(p);
    catalog_sync(db);
    pthread_cond_broadcast(&pr->up);
    pthread_mutex_unlock(&pr->mu);
    return IVM_OK;
}

static void catalog_stop(rt_proc *p, void *arg)
{
    ivm_db *db = arg;
    pthread_mutex_lock(&db->procs.mu);
    db->procs.catalog_owner = 0;
    catalog_forget(&db->procs);
    pthread_mutex_unlock(&db->procs.mu);
    rt_proc_exit(p, RT_EXIT_SHUTDOWN, NULL);
}

/* The circuit process stands for the engine's views on its workers.  A view
 * whose step fails reports the circuit failed (view_fail); the restart is
 * counted here and acted upon by the engine's thread before its next
 * statement: every broken view, and every view reading one, is rebuilt from
 * its inputs' current contents. */
static ivm_rc circuit_start(rt_proc *p, void *arg)
{
    ivm_db *db = arg;
    atomic_fetch_add(&db->procs.circuit_restarts, 1);
    IVM_UNUSED(p);
    return IVM_OK;
}

/* The session process stands for the client of this engine (a shell
 * session, a program using the API); it ends when the engine is closed. */
static ivm_rc session_start(rt_proc *p, void *arg)
{
    IVM_UNUSED(p);
    IVM_UNUSED(arg);
    return IVM_OK;
}

static void quiet_stop(rt_proc *p, void *arg)
{
    IVM_UNUSED(arg);
    rt_proc_exit(p, RT_EXIT_SHUTDOWN, NULL);
}

static ivm_rc procs_start(ivm_db *db)
{
    static atomic_uint engines;
    engine_procs *pr = &db->procs;
    char name[32];
    snprintf(name, sizeof name, "engine%u", atomic_fetch_add(&engines, 1) + 1);
    ivm_rc rc = rt_ds_new(&pr->ds);
    if (rc == IVM_OK)
        rc = rt_sup_new(NULL, name, RT_ONE_FOR_ONE, 10, 10000, &pr->sup);
    rt_child_spec cat = {.name = "catalog", .start = catalog_start, .stop = catalog_stop,
                         .arg = db, .restart = RT_PERMANENT};
    rt_child_spec circ = {.name = "circuit", .start = circuit_start, .stop = quiet_stop,
                          .arg = db, .restart = RT_PERMANENT};
    rt_child_spec sess = {.name = "session", .start = session_start, .stop = quiet_stop,
                          .arg = db, .restart = RT_TRANSIENT};
    if (rc == IVM_OK)
        rc = rt_sup_add(pr->sup, &cat, &pr->catalog);
    if (rc == IVM_OK)
        rc = rt_sup_add(pr->sup, &circ, &pr->circuit);
    if (rc == IVM_OK)
        rc = rt_sup_add(pr->sup, &sess, &pr->session);
    pr->circuit_seen = atomic_load(&pr->circuit_restarts);
    return rc;
}

static void procs_stop(ivm_db *db)
{
    engine_procs *pr = &db->procs;
    rt_sup_free(pr->sup); /* stops the children, retracting their assertions */
    pr->sup = NULL;
    pr->catalog = pr->circuit = pr->session = NULL;
    rt_ds_free(pr->ds);
    pr->ds = NULL;
    catalog_forget(pr);
    ivm_free(pr->asserted);
    pr->asserted = NULL;
}

/* Rebuilds broken views, and views reading them, after the circuit process
 * restarted (E5).  Outside transactions only; creation order puts a view's
 * inputs first. */
static void circuit_recover(ivm_db *db)
{
    engine_procs *pr = &db->procs;
    uint32_t restarts = atomic_load(&pr->circuit_restarts);
    if (restarts == pr->circuit_seen || db->in_txn)
        return;
    pr->circuit_seen = restarts;
    bool *redo = ivm_calloc(db->nrels + 1, sizeof *redo);
    if (redo == NULL)
        return;
    for (size_t i = 0; i < db->nrels; i++) {
        view *v = db->rels[i].v;
        if (v == NULL)
            continue;
        redo[i] = v->broken != IVM_OK;
        for (uint32_t k = 0; k < v->q->ninputs && !redo[i]; k++) {
            uint32_t id = v->q->inputs[k].rel_id;
            redo[i] = id != PLAN_REL_DUAL && id < db->nrels && redo[id];
        }
    }
    /* Readers' segments go first, then each view comes back in creation
     * order, after the views it reads (D12). */
    for (size_t i = db->nrels; i-- > 0;) {
        if (!redo[i])
            continue;
        view *v = db->rels[i].v;
        dbsp_circuit_remove(db->circuit, v->seg);
        v->seg = NULL;
    }
    for (size_t i = 0; i < db->nrels; i++) {
        if (!redo[i])
            continue;
        view *v = db->rels[i].v;
        ivm_err e;
        ivm_err_clear(&e);
        v->broken = IVM_OK;
        ivm_rc rc = view_attach(db, v, &e);
        if (rc != IVM_OK)
            view_fail(db, v, rc, &e);
        rt_log("rebuilt view %s: %s", v->name, rc == IVM_OK ? "ok" : v->broken_msg);
    }
    ivm_free(redo);
}

/* ---- Introspection: processes and the catalog ----------------------------------- */

static const char *proc_state_name(rt_proc_state s)
{
    switch (s) {
    case RT_PROC_STARTING: return "starting";
    case RT_PROC_RUNNING: return "running";
    case RT_PROC_STOPPING: return "stopping";
    case RT_PROC_EXITED: return "exited";
    case RT_PROC_FAILED: return "failed";
    }
    return "?";
}

typedef struct status_ctx {
    void (*fn)(void *arg, const ivm_proc_status *st);
    void *arg;
} status_ctx;

static void status_one(void *arg, const rt_proc_info *info)
{
    status_ctx *c = arg;
    ivm_proc_status st = {.name = info->name, .state = proc_state_name(info->state),
                          .starts = info->starts, .restarts = info->restarts,
                          .failures = info->failures, .last_exit = info->last_exit};
    c->fn(c->arg, &st);
}

void ivm_status(ivm_db *db, void (*fn)(void *arg, const ivm_proc_status *st), void *arg)
{
    IVM_UNUSED(db);
    status_ctx c = {fn, arg};
    rt_proc_list(NULL, status_one, &c);
}

typedef struct catalog_ctx {
    void (*fn)(void *arg, const char *kind, const char *name, const char *sql);
    void *arg;
} catalog_ctx;

static void catalog_one(void *arg, const rt_ds_event *ev)
{
    catalog_ctx *c = arg;
    /* "catalog.<kind>.<name>" */
    const char *kind = ev->key + strlen("catalog.");
    const char *dot = strchr(kind, '.');
    if (dot == NULL)
        return;
    char k[16];
    snprintf(k, sizeof k, "%.*s", (int)(dot - kind), kind);
    char *sql = ivm_strndup(ev->value, ev->vlen);
    if (sql == NULL)
        return;
    c->fn(c->arg, k, dot + 1, sql);
    ivm_free(sql);
}

ivm_rc ivm_catalog(ivm_db *db, void (*fn)(void *arg, const char *kind, const char *name,
                                          const char *sql),
                   void *arg)
{
    if (db == NULL || fn == NULL)
        return IVM_INVALID;
    engine_procs *pr = &db->procs;
    /* A restarting catalog is waited for (briefly), so that readers see
     * the whole catalog, not the gap between its runs. */
    pthread_mutex_lock(&pr->mu);
    uint64_t deadline = rt_now_ns() + 2000000000ull;
    while (pr->catalog_owner == 0 && rt_now_ns() < deadline) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&pr->up, &pr->mu, &ts);
    }
    bool up = pr->catalog_owner != 0;
    pthread_mutex_unlock(&pr->mu);
    if (!up)
        return IVM_BUSY;
    catalog_ctx c = {fn, arg};
    rt_ds_scan(pr->ds, "catalog.*", catalog_one, &c);
    return IVM_OK;
}

/* ---- For the C input API (api.c) ----------------------------------------------- */

relent *eng_rel_find(ivm_db *db, const char *name)
{
    return rel_find(db, name);
}

relent *eng_rel_get(ivm_db *db, uint32_t id)
{
    return rel_get(db, id);
}

ivm_rc eng_rel_contents(ivm_db *db, uint32_t id, spine_batch **out, ivm_err *err)
{
    return rel_contents(db, id, out, err);
}

ivm_rc eng_table_cursor(const table *t, spine_cursor **out)
{
    return table_cursor(t, out);
}

ivm_rc eng_coerce(ivm_db *db, const table *t, uint32_t col, ivm_value *v, ivm_err *err)
{
    plan_pos none = {0, 0};
    return coerce(db, t, col, v, none, err);
}

ivm_rc eng_apply(table *t, spine_batch *d_owned, ivm_err *err)
{
    return apply_checked(t, d_owned, err);
}

ivm_rc eng_commit(ivm_db *db, ivm_err *err)
{
    return txn_commit(db, err);
}

void eng_discard(ivm_db *db)
{
    txn_discard(db);
}
