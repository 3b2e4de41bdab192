/*
 * grammar.y: the lemon grammar of ivm's SQL dialect.  It accepts exactly one
 * statement per parse (parse.c feeds the tokens up to a ';' and then the end
 * marker) and builds the statement tree of planner.h through the builders in
 * parse.c, which own every check beyond syntax.  Operator precedence follows
 * SQLite.  It does not decide what ivm can maintain: the planner rejects
 * that later, with positions.  Design: sql/README.md.
 */

%name sql_gram
%token_prefix TK_
%token_type {sql_token}
%default_type {sql_token}
%extra_context {sql_pctx *ctx}
%stack_size SQL_STACK_SIZE  /* sql_int.h; Q5 */

%include {
#include "sql_int.h"

/* Recovery is parse.c's job (Q6): lemon reports the first error and stops. */
#define YYNOERRORRECOVERY 1
/* The parser object comes from ivm_malloc (sql_gramAlloc). */
#define YYMALLOCARGTYPE size_t
}

%syntax_error {
    sql_ctx_syntax_error(ctx, yymajor, &TOKEN);
}

%stack_overflow {
    sql_ctx_stack_overflow(ctx);
}

/* Tokens the lexer produces that no rule uses: declared so that they get
 * codes in grammar.h. */
%token ILLEGAL SEMI.

/* Keywords that may also serve as names where a keyword cannot stand. */
%fallback ID ASC DESC BEGIN COMMIT END ROLLBACK TRANSACTION EXPLAIN KEY VIEW IF
             FIRST LAST NULLS FILTER TRUE FALSE LIKE GLOB OFFSET RECURSIVE OVER PARTITION
             REPLACE IGNORE ABORT FAIL.

/* Matches any token that has no other action where it appears. */
%wildcard ANY.

/* SQLite's operator precedence, lowest first. */
%left OR.
%left AND.
%right NOT.
%left IS LIKE GLOB BETWEEN IN ISNULL NOTNULL NE EQ.
%left GT LE LT GE.
%right ESCAPE.
%left BITAND BITOR LSHIFT RSHIFT.
%left PLUS MINUS.
%left STAR SLASH REM.
%left CONCAT.
%left COLLATE.
%right BITNOT.

/* ---- Statements ----------------------------------------------------------- */

input ::= cmd(C).                       { sql_stmt_done(ctx, C); }
input ::= EXPLAIN cmd(C).               { sql_stmt_done(ctx, sql_stmt_explain(ctx, C, NULL)); }
input ::= EXPLAIN VIEW nm(N).           { sql_stmt_done(ctx, sql_stmt_explain(ctx, NULL, &N)); }
/* EXPLAIN DOT ...: the circuit as a Graphviz digraph; F must be DOT. */
input ::= EXPLAIN ID(F) cmd(C).         { sql_stmt_done(ctx, sql_stmt_explain_as(ctx, &F, C, NULL)); }
input ::= EXPLAIN ID(F) VIEW nm(N).     { sql_stmt_done(ctx, sql_stmt_explain_as(ctx, &F, NULL, &N)); }

%type cmd {plan_stmt *}

cmd(A) ::= BEGIN trans_opt.             { A = sql_stmt_new(ctx, PLAN_S_BEGIN); }
cmd(A) ::= COMMIT trans_opt.            { A = sql_stmt_new(ctx, PLAN_S_COMMIT); }
cmd(A) ::= END trans_opt.               { A = sql_stmt_new(ctx, PLAN_S_COMMIT); }
cmd(A) ::= ROLLBACK trans_opt.          { A = sql_stmt_new(ctx, PLAN_S_ROLLBACK); }
trans_opt ::= .
trans_opt ::= TRANSACTION.

%type ifnotexists {bool}
ifnotexists(A) ::= .                    { A = false; }
ifnotexists(A) ::= IF NOT EXISTS.       { A = true; }
%type ifexists {bool}
ifexists(A) ::= .                       { A = false; }
ifexists(A) ::= IF EXISTS.              { A = true; }

/* CREATE TABLE: the table under construction lives in ctx->table. */
cmd(A) ::= create_table LP columnlist conslist_opt RP.  { A = sql_table_end(ctx); }
create_table ::= CREATE TABLE ifnotexists(E) nm(N).     { sql_table_begin(ctx, E, &N); }

columnlist ::= columnlist COMMA columndef.
columnlist ::= columndef.
columndef ::= columnname carglist.
columnname ::= nm(N) typetoken(T).                      { sql_table_column(ctx, &N, T); }

/* Type names are plain words mapped by sql_type; sizes are accepted and
 * dropped (SQLite ignores them too). */
%type typetoken {plan_type}
typetoken(A) ::= .                                      { A = PLAN_TY_NONE; }
typetoken(A) ::= typedecl(X).                           { A = X; }
%type typedecl {plan_type}
typedecl(A) ::= typename(X).                            { A = X; }
typedecl(A) ::= typename(X) LP signed RP.              { A = X; }
typedecl(A) ::= typename(X) LP signed COMMA signed RP. { A = X; }
%type typename {plan_type}
typename(A) ::= ID(X).                                  { A = sql_type(ctx, &X, &X); }
typename(A) ::= ID(X) ID(Y).                            { A = sql_type(ctx, &X, &Y); }
signed ::= INTEGER.
signed ::= PLUS INTEGER.
signed ::= MINUS INTEGER.

carglist ::= carglist ccons.
carglist ::= .
ccons ::= NULL.
ccons ::= NOT NULL.                                     { sql_table_not_null(ctx); }
ccons ::= PRIMARY(P) KEY sortorder.                     { sql_table_primary_key(ctx, &P); }
ccons ::= UNIQUE(U).                                    { sql_table_unique(ctx, &U); }
ccons ::= DEFAULT term(X).                              { sql_table_default(ctx, X); }
ccons ::= DEFAULT LP(L) expr(X) RP.                     { sql_table_default(ctx, sql_expr_paren(ctx, &L, X)); }
ccons ::= DEFAULT PLUS(P) term(X).                      { sql_table_default(ctx, sql_expr_unary(ctx, PLAN_OP_PLUS, &P, X)); }
ccons ::= DEFAULT MINUS(M) term(X).                     { sql_table_default(ctx, sql_expr_unary(ctx, PLAN_OP_NEG, &M, X)); }

conslist_opt ::= .
conslist_opt ::= COMMA conslist.
conslist ::= conslist COMMA tcons.
conslist ::= tcons.
tcons ::= PRIMARY(P) KEY LP idxlist(L) RP.              { sql_table_pk(ctx, &P, &L); }
tcons ::= UNIQUE(U) LP idxlist(L) RP.                   { sql_table_unique_cols(ctx, &U, &L); }

/* CREATE [UNIQUE] INDEX */
cmd(A) ::= CREATE uniqueflag(U) INDEX ifnotexists(E) nm(N) ON nm(T) LP idxlist(L) RP.
    { A = sql_stmt_index(ctx, U, E, &N, &T, &L); }
%type uniqueflag {bool}
uniqueflag(A) ::= .                     { A = false; }
uniqueflag(A) ::= UNIQUE.               { A = true; }

%type idxlist {sql_nlist}
idxlist(A) ::= idxlist(L) COMMA nm(N) sortorder.  { A = L; sql_nlist_add(ctx, &A, &N); }
idxlist(A) ::= nm(N) sortorder.                   { memset(&A, 0, sizeof A); sql_nlist_add(ctx, &A, &N); }

/* CREATE VIEW */
cmd(A) ::= CREATE VIEW ifnotexists(E) nm(N) eidlist_opt(C) AS select(S).
    { A = sql_stmt_view(ctx, E, &N, C, S); }

%type eidlist_opt {sql_nlist *}
eidlist_opt(A) ::= .                    { A = NULL; }
eidlist_opt(A) ::= LP idlist(L) RP.     { A = sql_nlist_dup(ctx, &L); }
%type idlist {sql_nlist}
idlist(A) ::= idlist(L) COMMA nm(N).    { A = L; sql_nlist_add(ctx, &A, &N); }
idlist(A) ::= nm(N).                    { memset(&A, 0, sizeof A); sql_nlist_add(ctx, &A, &N); }

/* DROP */
cmd(A) ::= DROP TABLE ifexists(E) nm(N).  { A = sql_stmt_named(ctx, PLAN_S_DROP_TABLE, &N, E); }
cmd(A) ::= DROP VIEW ifexists(E) nm(N).   { A = sql_stmt_named(ctx, PLAN_S_DROP_VIEW, &N, E); }
cmd(A) ::= DROP INDEX ifexists(E) nm(N).  { A = sql_stmt_named(ctx, PLAN_S_DROP_INDEX, &N, E); }

/* INSERT, UPDATE, DELETE */
cmd(A) ::= insert_cmd(R) INTO nm(T) eidlist_opt(C) VALUES valueslist(V).
    { A = sql_stmt_insert(ctx, R, &T, C, &V, NULL); }
cmd(A) ::= insert_cmd(R) INTO nm(T) eidlist_opt(C) select(S).
    { A = sql_stmt_insert(ctx, R, &T, C, NULL, S); }
/* INSERT OR <resolution>; SQLite's REPLACE INTO is INSERT OR REPLACE. */
%type insert_cmd {int}
insert_cmd(A) ::= INSERT orconf(R).     { A = R; }
insert_cmd(A) ::= REPLACE.              { A = PLAN_OR_REPLACE; }
%type orconf {int}
orconf(A) ::= .                         { A = PLAN_OR_ABORT; }
orconf(A) ::= OR resolvetype(X).        { A = X; }
%type resolvetype {int}
resolvetype(A) ::= ROLLBACK.            { A = PLAN_OR_ROLLBACK; }
resolvetype(A) ::= ABORT.               { A = PLAN_OR_ABORT; }
resolvetype(A) ::= FAIL.                { A = PLAN_OR_FAIL; }
resolvetype(A) ::= IGNORE.              { A = PLAN_OR_IGNORE; }
resolvetype(A) ::= REPLACE.             { A = PLAN_OR_REPLACE; }
%type valueslist {sql_rowlist}
valueslist(A) ::= LP nexprlist(R) RP.   { memset(&A, 0, sizeof A); sql_rowlist_add(ctx, &A, &R); }
valueslist(A) ::= valueslist(L) COMMA LP nexprlist(R) RP.  { A = L; sql_rowlist_add(ctx, &A, &R); }

cmd(A) ::= UPDATE nm(T) SET setlist(S) where_opt(W).
    { A = sql_stmt_update(ctx, &T, &S.names, &S.values, W); }
%type setlist {struct { sql_nlist names; sql_elist values; }}
setlist(A) ::= setlist(L) COMMA nm(N) EQ expr(X).
    { A = L; sql_nlist_add(ctx, &A.names, &N); sql_elist_add(ctx, &A.values, X); }
setlist(A) ::= nm(N) EQ expr(X).
    { memset(&A, 0, sizeof A); sql_nlist_add(ctx, &A.names, &N); sql_elist_add(ctx, &A.values, X); }

cmd(A) ::= DELETE FROM nm(T) where_opt(W).  { A = sql_stmt_delete(ctx, &T, W); }

/* SELECT */
cmd(A) ::= select(S).                   { A = sql_stmt_select(ctx, S); }

/* ---- SELECT --------------------------------------------------------------- */

%type select {plan_select *}
%type selectnowith {plan_select *}
%type oneselect {plan_select *}

select(A) ::= WITH wqlist(W) selectnowith(S).  { A = sql_select_with(ctx, &W, S); }
select(A) ::= WITH RECURSIVE(R) wqlist selectnowith.
    { A = NULL; sql_ctx_error(ctx, IVM_UNSUPPORTED, R.line, R.col,
                              "WITH RECURSIVE is not supported: ivm does not maintain recursive queries yet"); }
select(A) ::= selectnowith(S).                 { A = S; }

selectnowith(A) ::= oneselect(S).              { A = S; }
selectnowith(A) ::= selectnowith(L) multiselect_op(O) oneselect(R).
    { A = sql_select_compound(ctx, L, O, R); }

%type multiselect_op {plan_compound}
multiselect_op(A) ::= UNION.            { A = PLAN_C_UNION; }
multiselect_op(A) ::= UNION ALL.        { A = PLAN_C_UNION_ALL; }
multiselect_op(A) ::= INTERSECT.        { A = PLAN_C_INTERSECT; }
multiselect_op(A) ::= EXCEPT.           { A = PLAN_C_EXCEPT; }

oneselect(A) ::= SELECT(T) distinct(D) selcollist(C) from(F) where_opt(W)
                 groupby_opt(G) having_opt(H) orderby_opt(O) limit_opt(L).
    { A = sql_select_core(ctx, &T, D, &C, F, W, &G, H, &O, &L); }

%type wqlist {sql_ctelist}
wqlist(A) ::= wqitem(X).                { memset(&A, 0, sizeof A);
                                          sql_ctelist_add(ctx, &A, &X.name, X.cols, X.sub); }
wqlist(A) ::= wqlist(L) COMMA wqitem(X). { A = L; sql_ctelist_add(ctx, &A, &X.name, X.cols, X.sub); }
%type wqitem {struct { sql_token name; sql_nlist *cols; plan_select *sub; }}
wqitem(A) ::= nm(N) eidlist_opt(C) AS LP select(S) RP.  { A.name = N; A.cols = C; A.sub = S; }

%type distinct {bool}
distinct(A) ::= DISTINCT.               { A = true; }
distinct(A) ::= ALL.                    { A = false; }
distinct(A) ::= .                       { A = false; }

/* Result columns.  scanpt is reduced with the next token as lookahead, so it
 * marks where an expression starts and (through gap) where it ended (Q3). */
%type selcollist {sql_rclist}
%type sclp {sql_rclist}
sclp(A) ::= selcollist(L) COMMA.        { A = L; }
sclp(A) ::= .                           { memset(&A, 0, sizeof A); }
selcollist(A) ::= sclp(L) scanpt(B) expr(X) scanpt(Z) as(Y).
    { A = L; sql_rclist_add_expr(ctx, &A, X, &B, &Z, Y.z ? &Y : NULL); }
selcollist(A) ::= sclp(L) scanpt STAR(S).
    { A = L; sql_rclist_add_star(ctx, &A, NULL, &S); }
selcollist(A) ::= sclp(L) scanpt nm(T) DOT STAR(S).
    { A = L; sql_rclist_add_star(ctx, &A, &T, &S); }

scanpt(A) ::= .                         { A = yyLookaheadToken; }

/* as: the alias token, or one with z == NULL when there is none. */
as(A) ::= AS nm(N).                     { A = N; }
as(A) ::= ID(N).                        { A = N; }
as(A) ::= STRING(N).                    { A = N; }
as(A) ::= .                             { memset(&A, 0, sizeof A); }

/* FROM: a left-deep tree of joins (Q7). */
%type from {plan_from *}
%type seltablist {plan_from *}
%type stl_prefix {struct { plan_from *left; int op; }}
%type seltable {plan_from *}
from(A) ::= .                           { A = NULL; }
from(A) ::= FROM seltablist(X).         { A = X; }

stl_prefix(A) ::= seltablist(L) joinop(J).  { A.left = L; A.op = J; }
stl_prefix(A) ::= .                         { A.left = NULL; A.op = 0; }
seltablist(A) ::= stl_prefix(P) seltable(T) on_using(C).
    { A = sql_from_join(ctx, P.left, P.op, T, &C); }

seltable(A) ::= nm(N) as(Z) indexed_opt.
    { A = sql_from_table(ctx, &N, Z.z ? &Z : NULL); }
seltable(A) ::= LP(L) select(S) RP as(Z).
    { A = sql_from_subquery(ctx, &L, S, Z.z ? &Z : NULL); }
seltable(A) ::= LP(L) seltablist(F) RP.
    { A = sql_from_paren(ctx, &L, F); }

/* SQLite's index hints: accepted and ignored (they do not change results). */
indexed_opt ::= .
indexed_opt ::= INDEXED BY nm.
indexed_opt ::= NOT INDEXED.

%type on_using {sql_onusing}
on_using(A) ::= ON expr(E).             { A.on = E; A.using_ = NULL; }
on_using(A) ::= USING LP idlist(L) RP.  { A.on = NULL; A.using_ = sql_nlist_dup(ctx, &L); }
on_using(A) ::= .                       { A.on = NULL; A.using_ = NULL; }

%type joinop {int}
%type joinkind {int}
joinop(A) ::= COMMA.                    { A = PLAN_J_CROSS | SQL_JOIN_COMMA; }
joinop(A) ::= joinkind(K) JOIN.         { A = K; }
joinop(A) ::= NATURAL joinkind(K) JOIN. { A = K | SQL_JOIN_NATURAL; }
joinkind(A) ::= .                       { A = PLAN_J_INNER; }
joinkind(A) ::= INNER.                  { A = PLAN_J_INNER; }
joinkind(A) ::= CROSS.                  { A = PLAN_J_CROSS; }
joinkind(A) ::= LEFT outer_opt.         { A = PLAN_J_LEFT; }
joinkind(A) ::= RIGHT outer_opt.        { A = PLAN_J_RIGHT; }
joinkind(A) ::= FULL outer_opt.         { A = PLAN_J_FULL; }
outer_opt ::= .
outer_opt ::= OUTER.

%type where_opt {plan_expr *}
where_opt(A) ::= .                      { A = NULL; }
where_opt(A) ::= WHERE expr(X).         { A = X; }

%type groupby_opt {sql_elist}
groupby_opt(A) ::= .                    { memset(&A, 0, sizeof A); }
groupby_opt(A) ::= GROUP BY nexprlist(L).  { A = L; }

%type having_opt {plan_expr *}
having_opt(A) ::= .                     { A = NULL; }
having_opt(A) ::= HAVING expr(X).       { A = X; }

%type orderby_opt {sql_olist}
%type sortlist {sql_olist}
orderby_opt(A) ::= .                    { memset(&A, 0, sizeof A); }
orderby_opt(A) ::= ORDER BY sortlist(L).  { A = L; }
sortlist(A) ::= sortlist(L) COMMA expr(X) sortorder(S) nulls(N).
    { A = L; sql_olist_add(ctx, &A, X, S, N); }
sortlist(A) ::= expr(X) sortorder(S) nulls(N).
    { memset(&A, 0, sizeof A); sql_olist_add(ctx, &A, X, S, N); }

%type sortorder {bool}
sortorder(A) ::= ASC.                   { A = false; }
sortorder(A) ::= DESC.                  { A = true; }
sortorder(A) ::= .                      { A = false; }
%type nulls {int}
nulls(A) ::= NULLS FIRST.               { A = -1; }
nulls(A) ::= NULLS LAST.                { A = 1; }
nulls(A) ::= .                          { A = 0; }

%type limit_opt {sql_limit}
limit_opt(A) ::= .                      { A.limit = NULL; A.offset = NULL; }
limit_opt(A) ::= LIMIT expr(X).         { A.limit = X; A.offset = NULL; }
limit_opt(A) ::= LIMIT expr(X) OFFSET expr(Y).  { A.limit = X; A.offset = Y; }
/* SQLite's LIMIT offset, count. */
limit_opt(A) ::= LIMIT expr(X) COMMA expr(Y).   { A.limit = Y; A.offset = X; }

/* ---- Expressions ---------------------------------------------------------- */

%type expr {plan_expr *}
%type term {plan_expr *}

nm(A) ::= ID(X).                        { A = X; }
nm(A) ::= STRING(X).                    { A = X; }

expr(A) ::= term(X).                    { A = X; }
expr(A) ::= LP(L) expr(X) RP.           { A = sql_expr_paren(ctx, &L, X); }
expr(A) ::= ID(X).                      { A = sql_expr_column(ctx, NULL, &X); }
expr(A) ::= nm(T) DOT nm(X).            { A = sql_expr_column(ctx, &T, &X); }
expr(A) ::= VARIABLE(X).                { A = sql_expr_param(ctx, &X); }

term(A) ::= INTEGER(X).                 { A = sql_expr_number(ctx, &X, false); }
term(A) ::= FLOAT(X).                   { A = sql_expr_number(ctx, &X, true); }
term(A) ::= STRING(X).                  { A = sql_expr_string(ctx, &X); }
term(A) ::= NULL(X).                    { A = sql_expr_leaf(ctx, PLAN_E_NULL, &X, 0); }
term(A) ::= TRUE(X).                    { A = sql_expr_leaf(ctx, PLAN_E_BOOL, &X, 1); }
term(A) ::= FALSE(X).                   { A = sql_expr_leaf(ctx, PLAN_E_BOOL, &X, 0); }

/* Function calls, aggregates and their FILTER. */
expr(A) ::= ID(N) LP distinct(D) exprlist(L) RP filter_opt(F).
    { A = sql_expr_func(ctx, &N, &L, D, false, F); }
expr(A) ::= ID(N) LP STAR RP filter_opt(F).
    { A = sql_expr_func(ctx, &N, NULL, false, true, F); }
%type filter_opt {plan_expr *}
filter_opt(A) ::= .                                 { A = NULL; }
filter_opt(A) ::= FILTER LP WHERE expr(X) RP.       { A = X; }

/* Window functions: ROW_NUMBER() OVER ([PARTITION BY ...] [ORDER BY ...])
 * becomes PLAN_E_WINDOW (sql_expr_window); any other function, a frame
 * (ROWS/RANGE/GROUPS ...) or a named window is read whole, so that the
 * construct is reported at OVER rather than as a syntax error. */
expr(A) ::= ID(N) LP distinct(D) exprlist(L) RP filter_opt(F) over_clause(W).
    { A = sql_expr_window(ctx, &N, &L, D, false, F, &W); }
expr(A) ::= ID(N) LP STAR RP filter_opt(F) over_clause(W).
    { A = sql_expr_window(ctx, &N, NULL, false, true, F, &W); }
%type over_clause {sql_window}
%type window_part {sql_elist}
over_clause(A) ::= OVER(O) LP window_part(P) orderby_opt(R) RP.
    { A.over = O; A.ok = true; A.partition = P; A.order = R; }
over_clause(A) ::= OVER(O) LP window_part orderby_opt ID anylist RP.
    { memset(&A, 0, sizeof A); A.over = O; }
over_clause(A) ::= OVER(O) ID.
    { memset(&A, 0, sizeof A); A.over = O; }
window_part(A) ::= .                            { memset(&A, 0, sizeof A); }
window_part(A) ::= PARTITION BY nexprlist(L).   { A = L; }
anylist ::= .
anylist ::= anylist LP anylist RP.
anylist ::= anylist ANY.

expr(A) ::= CAST(C) LP expr(X) AS typedecl(T) RP.   { A = sql_expr_cast(ctx, &C, X, T); }

expr(A) ::= expr(X) AND expr(Y).        { A = sql_expr_binary(ctx, PLAN_OP_AND, X, Y); }
expr(A) ::= expr(X) OR expr(Y).         { A = sql_expr_binary(ctx, PLAN_OP_OR, X, Y); }
expr(A) ::= expr(X) LT expr(Y).         { A = sql_expr_binary(ctx, PLAN_OP_LT, X, Y); }
expr(A) ::= expr(X) GT expr(Y).         { A = sql_expr_binary(ctx, PLAN_OP_GT, X, Y); }
expr(A) ::= expr(X) GE expr(Y).         { A = sql_expr_binary(ctx, PLAN_OP_GE, X, Y); }
expr(A) ::= expr(X) LE expr(Y).         { A = sql_expr_binary(ctx, PLAN_OP_LE, X, Y); }
expr(A) ::= expr(X) EQ expr(Y).         { A = sql_expr_binary(ctx, PLAN_OP_EQ, X, Y); }
expr(A) ::= expr(X) NE expr(Y).         { A = sql_expr_binary(ctx, PLAN_OP_NE, X, Y); }
expr(A) ::= expr(X) BITAND expr(Y).     { A = sql_expr_binary(ctx, PLAN_OP_BITAND, X, Y); }
expr(A) ::= expr(X) BITOR expr(Y).      { A = sql_expr_binary(ctx, PLAN_OP_BITOR, X, Y); }
expr(A) ::= expr(X) LSHIFT expr(Y).     { A = sql_expr_binary(ctx, PLAN_OP_LSHIFT, X, Y); }
expr(A) ::= expr(X) RSHIFT expr(Y).     { A = sql_expr_binary(ctx, PLAN_OP_RSHIFT, X, Y); }
expr(A) ::= expr(X) PLUS expr(Y).       { A = sql_expr_binary(ctx, PLAN_OP_ADD, X, Y); }
expr(A) ::= expr(X) MINUS expr(Y).      { A = sql_expr_binary(ctx, PLAN_OP_SUB, X, Y); }
expr(A) ::= expr(X) STAR expr(Y).       { A = sql_expr_binary(ctx, PLAN_OP_MUL, X, Y); }
expr(A) ::= expr(X) SLASH expr(Y).      { A = sql_expr_binary(ctx, PLAN_OP_DIV, X, Y); }
expr(A) ::= expr(X) REM expr(Y).        { A = sql_expr_binary(ctx, PLAN_OP_MOD, X, Y); }
expr(A) ::= expr(X) CONCAT expr(Y).     { A = sql_expr_binary(ctx, PLAN_OP_CONCAT, X, Y); }

/* IS compares NULLs as values; IS [NOT] NULL becomes PLAN_E_ISNULL. */
expr(A) ::= expr(X) IS expr(Y).                         { A = sql_expr_is(ctx, false, X, Y); }
expr(A) ::= expr(X) IS NOT expr(Y).                     { A = sql_expr_is(ctx, true, X, Y); }
expr(A) ::= expr(X) IS NOT DISTINCT FROM expr(Y).       { A = sql_expr_is(ctx, false, X, Y); }
expr(A) ::= expr(X) IS DISTINCT FROM expr(Y).           { A = sql_expr_is(ctx, true, X, Y); }
expr(A) ::= expr(X) ISNULL.                             { A = sql_expr_isnull(ctx, false, X); }
expr(A) ::= expr(X) NOTNULL.                            { A = sql_expr_isnull(ctx, true, X); }
expr(A) ::= expr(X) NOT NULL.                           { A = sql_expr_isnull(ctx, true, X); }

%type likeop {int}
likeop(A) ::= LIKE.                     { A = PLAN_OP_LIKE; }
likeop(A) ::= GLOB.                     { A = PLAN_OP_GLOB; }
likeop(A) ::= NOT LIKE.                 { A = PLAN_OP_LIKE | SQL_LIKE_NOT; }
likeop(A) ::= NOT GLOB.                 { A = PLAN_OP_GLOB | SQL_LIKE_NOT; }
expr(A) ::= expr(X) likeop(O) expr(Y).  [LIKE]
    { A = sql_expr_like(ctx, O, X, Y, NULL); }
expr(A) ::= expr(X) likeop(O) expr(Y) ESCAPE expr(E).  [LIKE]
    { A = sql_expr_like(ctx, O, X, Y, E); }

%type between_op {bool}
between_op(A) ::= BETWEEN.              { A = false; }
between_op(A) ::= NOT BETWEEN.          { A = true; }
expr(A) ::= expr(X) between_op(N) expr(Y) AND expr(Z).  [BETWEEN]
    { A = sql_expr_between(ctx, N, X, Y, Z); }

%type in_op {bool}
in_op(A) ::= IN.                        { A = false; }
in_op(A) ::= NOT IN.                    { A = true; }
expr(A) ::= expr(X) in_op(N) LP exprlist(L) RP.  [IN]
    { A = sql_expr_in_list(ctx, N, X, &L); }
expr(A) ::= expr(X) in_op(N) LP select(S) RP.  [IN]
    { A = sql_expr_in_select(ctx, N, X, S); }
/* SQLite's `x IN table`. */
expr(A) ::= expr(X) in_op(N) nm(T).  [IN]
    { A = sql_expr_in_table(ctx, N, X, &T); }

expr(A) ::= LP(L) select(S) RP.         { A = sql_expr_subquery(ctx, PLAN_E_SUBQUERY, &L, S); }
expr(A) ::= EXISTS(E) LP select(S) RP.  { A = sql_expr_subquery(ctx, PLAN_E_EXISTS, &E, S); }

expr(A) ::= NOT(T) expr(X).             { A = sql_expr_unary(ctx, PLAN_OP_NOT, &T, X); }
expr(A) ::= BITNOT(T) expr(X).          { A = sql_expr_unary(ctx, PLAN_OP_BITNOT, &T, X); }
expr(A) ::= MINUS(T) expr(X).  [BITNOT] { A = sql_expr_unary(ctx, PLAN_OP_NEG, &T, X); }
expr(A) ::= PLUS(T) expr(X).  [BITNOT]  { A = sql_expr_unary(ctx, PLAN_OP_PLUS, &T, X); }

expr(A) ::= expr(X) COLLATE ID(C).      { A = sql_expr_collate(ctx, X, &C); }
expr(A) ::= expr(X) COLLATE STRING(C).  { A = sql_expr_collate(ctx, X, &C); }

expr(A) ::= CASE(C) case_operand(B) case_exprlist(L) case_else(E) END.
    { A = sql_expr_case(ctx, &C, B, &L, E); }
%type case_exprlist {sql_elist}
case_exprlist(A) ::= case_exprlist(L) WHEN expr(X) THEN expr(Y).
    { A = L; sql_elist_add(ctx, &A, X); sql_elist_add(ctx, &A, Y); }
case_exprlist(A) ::= WHEN expr(X) THEN expr(Y).
    { memset(&A, 0, sizeof A); sql_elist_add(ctx, &A, X); sql_elist_add(ctx, &A, Y); }
%type case_else {plan_expr *}
case_else(A) ::= ELSE expr(X).          { A = X; }
case_else(A) ::= .                      { A = NULL; }
%type case_operand {plan_expr *}
case_operand(A) ::= expr(X).            { A = X; }
case_operand(A) ::= .                   { A = NULL; }

%type exprlist {sql_elist}
%type nexprlist {sql_elist}
exprlist(A) ::= nexprlist(L).           { A = L; }
exprlist(A) ::= .                       { memset(&A, 0, sizeof A); }
nexprlist(A) ::= nexprlist(L) COMMA expr(X).  { A = L; sql_elist_add(ctx, &A, X); }
nexprlist(A) ::= expr(X).               { memset(&A, 0, sizeof A); sql_elist_add(ctx, &A, X); }
