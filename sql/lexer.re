/*
 * lexer.re: the re2c lexer of ivm's SQL dialect.  It cuts a text into tokens
 * with 1-based line and column positions, skipping white space and comments,
 * and classifies each lexeme (keyword, name, number, string, operator).  It
 * does not convert values (parse.c does) and knows nothing of statements.
 * It reads only src[0..len): the end is a fake NUL from YYPEEK, checked
 * against the limit, so any byte sequence is safe (Q1).  Design:
 * sql/README.md.
 */
#include "sql_int.h"
#include "grammar.h"

void sql_lexer_init(sql_lexer *lx, const char *src, size_t len, uint32_t first_line)
{
    lx->src = src;
    lx->cur = src;
    lx->lim = src + len;
    lx->prev_end = src;
    lx->line = first_line ? first_line : 1;
    lx->col = 1;
    lx->err = SQL_LEX_OK;
}

/* Moves the position over [p, end): a newline starts a new line; columns
 * count characters, so UTF-8 continuation bytes do not advance them. */
static void advance(sql_lexer *lx, const unsigned char *p, const unsigned char *end)
{
    for (; p < end; p++) {
        if (*p == '\n') {
            lx->line++;
            lx->col = 1;
        } else if ((*p & 0xc0) != 0x80) {
            lx->col++;
        }
    }
}

static bool has_nul(const unsigned char *p, const unsigned char *end)
{
    return memchr(p, 0, (size_t)(end - p)) != NULL;
}

int sql_lex_next(sql_lexer *lx, sql_token *tok)
{
    const unsigned char *cur = (const unsigned char *)lx->cur;
    const unsigned char *lim = (const unsigned char *)lx->lim;
    const unsigned char *mar = cur, *start;
    int code;

    lx->err = SQL_LEX_OK;
    for (;;) {
        start = cur;
    /*!re2c
        re2c:yyfill:enable = 0;
        re2c:eof = 0;
        re2c:api = custom;
        re2c:api:style = free-form;
        re2c:define:YYCTYPE = "unsigned char";
        re2c:define:YYLESSTHAN = "cur >= lim";
        re2c:define:YYPEEK = "(cur < lim ? *cur : 0)";
        re2c:define:YYSKIP = "++cur;";
        re2c:define:YYBACKUP = "mar = cur;";
        re2c:define:YYRESTORE = "cur = mar;";

        digits  = [0-9]+;
        exp     = [eE] [+-]? digits;
        hex     = "0" [xX] [0-9a-fA-F]+;
        real    = (digits "." [0-9]* | "." digits) exp? | digits exp;
        idstart = [a-zA-Z_\x80-\xff];
        idchar  = [a-zA-Z0-9_$\x80-\xff];
        badnum  = (digits | real | hex) idchar+;

        sstr    = "'" ([^'] | "''")* "'";
        dqid    = "\"" ([^"] | "\"\"")* "\"";
        bqid    = "`" ([^`] | "``")* "`";
        brid    = "[" [^\]]* "]";

        $ {
            tok->z = (const char *)lim;
            tok->n = 0;
            tok->line = lx->line;
            tok->col = lx->col;
            tok->gap = (uint32_t)((const char *)lim - lx->prev_end);
            lx->cur = (const char *)lim;
            return 0;
        }

        [ \t\n\f\r\v]+          { advance(lx, start, cur); continue; }
        "--" [^\n]*             { advance(lx, start, cur); continue; }
        "/*" ([^*] | "*"+ [^*/])* "*"+ "/" { advance(lx, start, cur); continue; }
        "/*" ([^*] | "*"+ [^*/])* "*"*     { code = TK_ILLEGAL; lx->err = SQL_LEX_OPEN_COMMENT; goto done; }

        'all'           { code = TK_ALL; goto done; }
        'and'           { code = TK_AND; goto done; }
        'abort'         { code = TK_ABORT; goto done; }
        'as'            { code = TK_AS; goto done; }
        'asc'           { code = TK_ASC; goto done; }
        'begin'         { code = TK_BEGIN; goto done; }
        'between'       { code = TK_BETWEEN; goto done; }
        'by'            { code = TK_BY; goto done; }
        'case'          { code = TK_CASE; goto done; }
        'cast'          { code = TK_CAST; goto done; }
        'collate'       { code = TK_COLLATE; goto done; }
        'commit'        { code = TK_COMMIT; goto done; }
        'create'        { code = TK_CREATE; goto done; }
        'cross'         { code = TK_CROSS; goto done; }
        'default'       { code = TK_DEFAULT; goto done; }
        'delete'        { code = TK_DELETE; goto done; }
        'desc'          { code = TK_DESC; goto done; }
        'distinct'      { code = TK_DISTINCT; goto done; }
        'drop'          { code = TK_DROP; goto done; }
        'else'          { code = TK_ELSE; goto done; }
        'end'           { code = TK_END; goto done; }
        'escape'        { code = TK_ESCAPE; goto done; }
        'except'        { code = TK_EXCEPT; goto done; }
        'exists'        { code = TK_EXISTS; goto done; }
        'explain'       { code = TK_EXPLAIN; goto done; }
        'fail'          { code = TK_FAIL; goto done; }
        'false'         { code = TK_FALSE; goto done; }
        'filter'        { code = TK_FILTER; goto done; }
        'first'         { code = TK_FIRST; goto done; }
        'from'          { code = TK_FROM; goto done; }
        'full'          { code = TK_FULL; goto done; }
        'glob'          { code = TK_GLOB; goto done; }
        'group'         { code = TK_GROUP; goto done; }
        'having'        { code = TK_HAVING; goto done; }
        'if'            { code = TK_IF; goto done; }
        'ignore'        { code = TK_IGNORE; goto done; }
        'in'            { code = TK_IN; goto done; }
        'index'         { code = TK_INDEX; goto done; }
        'indexed'       { code = TK_INDEXED; goto done; }
        'inner'         { code = TK_INNER; goto done; }
        'insert'        { code = TK_INSERT; goto done; }
        'intersect'     { code = TK_INTERSECT; goto done; }
        'into'          { code = TK_INTO; goto done; }
        'is'            { code = TK_IS; goto done; }
        'isnull'        { code = TK_ISNULL; goto done; }
        'join'          { code = TK_JOIN; goto done; }
        'key'           { code = TK_KEY; goto done; }
        'last'          { code = TK_LAST; goto done; }
        'left'          { code = TK_LEFT; goto done; }
        'like'          { code = TK_LIKE; goto done; }
        'limit'         { code = TK_LIMIT; goto done; }
        'natural'       { code = TK_NATURAL; goto done; }
        'not'           { code = TK_NOT; goto done; }
        'notnull'       { code = TK_NOTNULL; goto done; }
        'null'          { code = TK_NULL; goto done; }
        'nulls'         { code = TK_NULLS; goto done; }
        'offset'        { code = TK_OFFSET; goto done; }
        'on'            { code = TK_ON; goto done; }
        'or'            { code = TK_OR; goto done; }
        'order'         { code = TK_ORDER; goto done; }
        'outer'         { code = TK_OUTER; goto done; }
        'over'          { code = TK_OVER; goto done; }
        'partition'     { code = TK_PARTITION; goto done; }
        'primary'       { code = TK_PRIMARY; goto done; }
        'recursive'     { code = TK_RECURSIVE; goto done; }
        'replace'       { code = TK_REPLACE; goto done; }
        'right'         { code = TK_RIGHT; goto done; }
        'rollback'      { code = TK_ROLLBACK; goto done; }
        'select'        { code = TK_SELECT; goto done; }
        'set'           { code = TK_SET; goto done; }
        'table'         { code = TK_TABLE; goto done; }
        'then'          { code = TK_THEN; goto done; }
        'transaction'   { code = TK_TRANSACTION; goto done; }
        'true'          { code = TK_TRUE; goto done; }
        'union'         { code = TK_UNION; goto done; }
        'unique'        { code = TK_UNIQUE; goto done; }
        'update'        { code = TK_UPDATE; goto done; }
        'using'         { code = TK_USING; goto done; }
        'values'        { code = TK_VALUES; goto done; }
        'view'          { code = TK_VIEW; goto done; }
        'when'          { code = TK_WHEN; goto done; }
        'where'         { code = TK_WHERE; goto done; }
        'with'          { code = TK_WITH; goto done; }

        [xX] "'" [^']* "'"      { code = TK_ILLEGAL; lx->err = SQL_LEX_BLOB; goto done; }
        idstart idchar*         { code = TK_ID; goto done; }
        dqid | bqid | brid      {
            code = TK_ID;
            if (has_nul(start, cur)) {
                code = TK_ILLEGAL;
                lx->err = SQL_LEX_NUL;
            }
            goto done;
        }
        "\"" ([^"] | "\"\"")* | "`" ([^`] | "``")* | "[" [^\]]* {
            code = TK_ILLEGAL;
            lx->err = SQL_LEX_OPEN_IDENT;
            goto done;
        }
        sstr {
            code = TK_STRING;
            if (has_nul(start, cur)) {
                code = TK_ILLEGAL;
                lx->err = SQL_LEX_NUL;
            }
            goto done;
        }
        "'" ([^'] | "''")*      { code = TK_ILLEGAL; lx->err = SQL_LEX_OPEN_STRING; goto done; }

        digits | hex            { code = TK_INTEGER; goto done; }
        real                    { code = TK_FLOAT; goto done; }
        badnum                  { code = TK_ILLEGAL; lx->err = SQL_LEX_BAD_TOKEN; goto done; }
        "?" [0-9]*              { code = TK_VARIABLE; goto done; }

        "-"     { code = TK_MINUS; goto done; }
        "("     { code = TK_LP; goto done; }
        ")"     { code = TK_RP; goto done; }
        ";"     { code = TK_SEMI; goto done; }
        "+"     { code = TK_PLUS; goto done; }
        "*"     { code = TK_STAR; goto done; }
        "/"     { code = TK_SLASH; goto done; }
        "%"     { code = TK_REM; goto done; }
        "=" | "=="      { code = TK_EQ; goto done; }
        "<="    { code = TK_LE; goto done; }
        "<>" | "!="     { code = TK_NE; goto done; }
        "<<"    { code = TK_LSHIFT; goto done; }
        "<"     { code = TK_LT; goto done; }
        ">="    { code = TK_GE; goto done; }
        ">>"    { code = TK_RSHIFT; goto done; }
        ">"     { code = TK_GT; goto done; }
        ","     { code = TK_COMMA; goto done; }
        "&"     { code = TK_BITAND; goto done; }
        "~"     { code = TK_BITNOT; goto done; }
        "|"     { code = TK_BITOR; goto done; }
        "||"    { code = TK_CONCAT; goto done; }
        "."     { code = TK_DOT; goto done; }

        "\x00"  { code = TK_ILLEGAL; lx->err = SQL_LEX_NUL; goto done; }
        *       { code = TK_ILLEGAL; lx->err = SQL_LEX_BAD_TOKEN; goto done; }
    */
    }

done:
    tok->z = (const char *)start;
    tok->n = (uint32_t)(cur - start);
    tok->line = lx->line;
    tok->col = lx->col;
    tok->gap = (uint32_t)((const char *)start - lx->prev_end);
    advance(lx, start, cur);
    lx->cur = (const char *)cur;
    lx->prev_end = (const char *)cur;
    return code;
}
