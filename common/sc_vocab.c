#include "sc_vocab.h"

#include <string.h>

static const char *const platform_names[SC_PLATFORM_CNT] = {
    "x", "facebook", "instagram", "forum", "comment", "review"};
static const char *const lang_names[SC_LANG_CNT] = {"pl", "en", "und"};
static const char *const label_names[SC_LABEL_CNT] = {"positive", "neutral", "negative"};
static const char *const intent_names[SC_INTENT_CNT] = {
    "complaint", "question", "praise", "purchase_intent", "churn_risk", "crisis", "spam"};
static const char *const prio_names[SC_PRIO_CNT] = {"urgent", "high", "normal", "low"};

static const char *name_of(const char *const *names, int cnt, int i)
{
        return i >= 0 && i < cnt ? names[i] : NULL;
}

static int parse(const char *const *names, int cnt, const char *s, size_t n)
{
        for (int i = 0; i < cnt; i++)
                if (strlen(names[i]) == n && !memcmp(names[i], s, n))
                        return i;
        return -1;
}

const char *sc_platform_name(int i)
{
        return name_of(platform_names, SC_PLATFORM_CNT, i);
}
const char *sc_lang_name(int i)
{
        return name_of(lang_names, SC_LANG_CNT, i);
}
const char *sc_label_name(int i)
{
        return name_of(label_names, SC_LABEL_CNT, i);
}
const char *sc_intent_name(int i)
{
        return name_of(intent_names, SC_INTENT_CNT, i);
}
const char *sc_prio_name(int i)
{
        return name_of(prio_names, SC_PRIO_CNT, i);
}

int sc_platform_parse(const char *s, size_t n)
{
        return parse(platform_names, SC_PLATFORM_CNT, s, n);
}
int sc_lang_parse(const char *s, size_t n)
{
        return parse(lang_names, SC_LANG_CNT, s, n);
}
int sc_label_parse(const char *s, size_t n)
{
        return parse(label_names, SC_LABEL_CNT, s, n);
}
int sc_intent_parse(const char *s, size_t n)
{
        return parse(intent_names, SC_INTENT_CNT, s, n);
}
int sc_prio_parse(const char *s, size_t n)
{
        return parse(prio_names, SC_PRIO_CNT, s, n);
}
