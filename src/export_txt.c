/* export_txt.c - plain text: each line of text on its own line in reading
 * order, a blank line between blocks (not after the last), and a form feed
 * between pages where Tesseract 5 puts it: before every page but the first,
 * so N pages carry N-1 form feeds and an empty page is just its separator. */
#include "export.h"

/* A line's words joined by single spaces. */
static int line_text(docrt_sbuf *b, const docrt_line *ln)
{
    docrt_word one;
    int n;
    const docrt_word *wd = docrt_export_line_words(ln, &one, &n);
    for (int i = 0; i < n; i++) {
        if (i && docrt_sbuf_append(b, " ", 1))
            return -1;
        if (docrt_sbuf_put_clean(b, wd[i].text))
            return -1;
    }
    return 0;
}

static docrt_status txt_open(docrt_writer *w)
{
    (void)w;
    return DOCRT_OK;
}

static docrt_status txt_add_page(docrt_writer *w, const docrt_page *p,
                                 int page_no)
{
    (void)page_no;
    docrt_sbuf *b = &w->text;
    docrt_sbuf_reset(b);
    if (w->n_pages > 0 && docrt_sbuf_append(b, "\f", 1))
        return DOCRT_ERR_NOMEM;
    int blocks_out = 0;
    for (int i = 0; i < p->n_blocks; i++) {
        const docrt_block *bl = &p->blocks[i];
        if (bl->n_lines == 0)
            continue;
        if (blocks_out++ && docrt_sbuf_append(b, "\n", 1))
            return DOCRT_ERR_NOMEM;
        for (int l = 0; l < bl->n_lines; l++)
            if (line_text(b, &bl->lines[l]) || docrt_sbuf_append(b, "\n", 1))
                return DOCRT_ERR_NOMEM;
    }
    docrt_export_write(w, b->p, b->len);
    return docrt_export_flush(w);
}

static docrt_status txt_close(docrt_writer *w)
{
    return docrt_export_flush(w);
}

const docrt_export_ops docrt_export_txt_ops = {
    "txt", txt_open, txt_add_page, txt_close,
};
