/* What the classifier tests share: run(text) classifies one text with the
 * test's classifier (cls) and scratch (cl), both set up by the test's main;
 * SC_TEST_VERBOSE=1 prints every decision with its explanation. The result
 * lives until the next run(). */
#ifndef CLASSIFY_RUN_H
#define CLASSIFY_RUN_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_classify.h"
#include "sc_test.h"

static sc_classifier_t *cls;
static sc_classify_t *cl;
static sc_classification_t r;

static const sc_classification_t *run(const char *text)
{
        sc_buf_t ex = SC_BUF_INIT;
        CHECK(sc_classify_text(cl, cls, text, strlen(text), NULL, &r, &ex) == 0);
        if (getenv("SC_TEST_VERBOSE"))
                printf("%-50s %s %+.3f %s %#x %s\n", text, r.lang, r.score, r.label,
                       r.intent_mask, ex.data);
        sc_buf_free(&ex);
        return &r;
}

static int has(const char *text, int intent)
{
        return (run(text)->intent_mask >> intent) & 1;
}

#endif
