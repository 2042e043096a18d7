#!/usr/bin/env python3
"""Writes deploy/grafana/dashboards/socialcare.json (the provisioned Grafana
dashboard). Edit the panels here and run it again:
    python3 deploy/grafana/make_dashboard.py
Every socialcare_* name in an expr must be a metric the workers export:
tests/deploy/test_dashboard.sh checks the JSON against live /metrics."""
import json
import os

DS = {"type": "prometheus", "uid": "socialcare-prometheus"}
RI = "$__rate_interval"
B = 'brand=~"$brand"'

panels = []
next_id = [1]
y = [0]


def row(title):
    panels.append({"type": "row", "title": title, "id": next_id[0], "collapsed": False,
                   "gridPos": {"h": 1, "w": 24, "x": 0, "y": y[0]}, "panels": []})
    next_id[0] += 1
    y[0] += 1


x_pos = [0]


def panel(title, targets, unit="short", kind="timeseries", w=8, h=8, desc="",
          stack=False, max_=None):
    if x_pos[0] + w > 24:
        x_pos[0] = 0
        y[0] += h
    p = {
        "type": kind,
        "title": title,
        "description": desc,
        "id": next_id[0],
        "datasource": DS,
        "gridPos": {"h": h, "w": w, "x": x_pos[0], "y": y[0]},
        "targets": [{"datasource": DS, "refId": chr(ord("A") + i), "expr": e,
                     "legendFormat": l, "range": True}
                    for i, (e, l) in enumerate(targets)],
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "table", "placement": "bottom",
                               "calcs": ["lastNotNull", "max"], "showLegend": True},
                    "tooltip": {"mode": "multi", "sort": "desc"}},
    }
    if kind == "timeseries":
        p["fieldConfig"]["defaults"]["custom"] = {
            "drawStyle": "line", "lineWidth": 1, "fillOpacity": 10 if stack else 0,
            "stacking": {"mode": "normal" if stack else "none", "group": "A"},
            "showPoints": "never"}
    if kind in ("stat", "bargauge", "piechart"):
        p["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "",
                                          "values": False},
                        "orientation": "auto"}
        if kind == "piechart":
            p["options"].update({"pieType": "donut",
                                 "legend": {"displayMode": "table", "placement": "right",
                                            "values": ["percent"], "showLegend": True}})
        for t in p["targets"]:
            t["instant"] = True
            t["range"] = False
    if max_ is not None:
        p["fieldConfig"]["defaults"]["max"] = max_
        p["fieldConfig"]["defaults"]["min"] = 0
    panels.append(p)
    next_id[0] += 1
    x_pos[0] += w
    if x_pos[0] >= 24:
        x_pos[0] = 0
        y[0] += h


def end_row():
    if x_pos[0]:
        x_pos[0] = 0
        y[0] += 8


row("Throughput")
panel("Messages in, by worker and topic",
      [(f"sum by (worker, topic) (rate(socialcare_messages_in_total[{RI}]))",
        "{{worker}} ← {{topic}}")], unit="reqps",
      desc="Messages consumed per second (socialcare_messages_in_total).")
panel("Messages out, by worker and topic",
      [(f"sum by (worker, topic) (rate(socialcare_messages_out_total[{RI}]))",
        "{{worker}} → {{topic}}")], unit="reqps",
      desc="Messages produced per second, dead letters excluded.")
panel("Workers up",
      [("sum by (worker) (socialcare_up)", "{{worker}}")], kind="stat",
      desc="Copies of each worker answering the scrape (socialcare_up).")
panel("Processing latency p50 / p99",
      [(f"histogram_quantile(0.5, sum by (worker, le) (rate(socialcare_processing_seconds_bucket[{RI}])))",
        "p50 {{worker}}"),
       (f"histogram_quantile(0.99, sum by (worker, le) (rate(socialcare_processing_seconds_bucket[{RI}])))",
        "p99 {{worker}}")], unit="s",
      desc="Time per input message (its batch's time / batch size).")
panel("Ingest: posts, duplicates, ignored items",
      [(f"sum (rate(socialcare_ingest_posts_total[{RI}]))", "posts"),
       (f"sum by (brand) (rate(socialcare_ingest_duplicates_total{{{B}}}[{RI}]))",
        "duplicates {{brand}}"),
       (f"sum (rate(socialcare_ingest_ignored_total[{RI}]))", "ignored")], unit="reqps")
panel("Average processing time",
      [(f"sum by (worker) (rate(socialcare_processing_seconds_sum[{RI}])) / "
        f"sum by (worker) (rate(socialcare_processing_seconds_count[{RI}]))", "{{worker}}")],
      unit="s")
end_row()

row("Kafka")
panel("Consumer lag, by topic and partition",
      [("sum by (worker, topic, partition) (socialcare_consumer_lag)",
        "{{worker}} {{topic}} [{{partition}}]")], w=12,
      desc="Messages behind the partition end, from librdkafka statistics (every 5 s).")
panel("Consumer lag, by worker",
      [("sum by (worker) (socialcare_consumer_lag)", "{{worker}}")], w=12, stack=True)
panel("Producer queue and in-flight inputs",
      [("max by (worker) (socialcare_producer_queue_messages)", "queue {{worker}}"),
       ("max by (worker) (socialcare_inflight_messages)", "in flight {{worker}}")])
panel("Retries",
      [(f"sum by (worker) (rate(socialcare_delivery_retries_total[{RI}]))",
        "delivery {{worker}}"),
       (f"sum by (worker) (rate(socialcare_batch_retries_total[{RI}]))", "batch {{worker}}"),
       (f"sum by (worker) (rate(socialcare_tick_retries_total[{RI}]))", "tick {{worker}}")],
      unit="ops", desc="Failed deliveries produced again; batches and timer runs deferred "
                       "by an outage (Redis) and retried after a backoff.")
panel("Redis errors and reconnects",
      [(f"sum by (worker) (rate(socialcare_redis_errors_total[{RI}]))", "errors {{worker}}"),
       (f"sum by (worker) (rate(socialcare_redis_reconnects_total[{RI}]))",
        "reconnects {{worker}}")], unit="ops")
end_row()

row("Dead letters")
panel("Dead letters by worker and reason",
      [(f"sum by (worker, reason) (rate(socialcare_dlq_messages_total[{RI}]))",
        "{{worker}} {{reason}}")], unit="reqps", w=16, stack=True,
      desc="Inputs sent to <topic>.dlq, by reason code (socialcare_dlq_messages_total).")
panel("Dead letters in the range",
      [("sum by (reason) (increase(socialcare_dlq_messages_total[$__range]))", "{{reason}}")],
      kind="bargauge", w=8)
end_row()

row("Customer care, per brand (today, the brand's local day)")
panel("Reply rate",
      [(f"max by (brand) (socialcare_brand_reply_rate{{{B}}})", "{{brand}}")],
      unit="percentunit", max_=1, desc="Replied / needs reply, today.")
panel("First response time (median)",
      [(f"max by (brand) (socialcare_brand_frt_median_seconds{{{B}}})", "{{brand}}")],
      unit="s")
panel("First response time (average)",
      [(f"max by (brand) (socialcare_brand_frt_avg_seconds{{{B}}})", "{{brand}}")],
      unit="s")
panel("SLA misses today",
      [(f"max by (brand) (socialcare_brand_sla_missed{{{B}}})", "{{brand}}")],
      kind="bargauge")
panel("Pending (waiting for a reply now)",
      [(f"max by (brand) (socialcare_brand_pending{{{B}}})", "{{brand}}")])
panel("Received / needs reply / replied today",
      [(f"max by (brand) (socialcare_brand_received{{{B}}})", "received {{brand}}"),
       (f"max by (brand) (socialcare_brand_needs_reply{{{B}}})", "needs reply {{brand}}"),
       (f"max by (brand) (socialcare_brand_replied{{{B}}})", "replied {{brand}}")])
panel("SLA events by kind",
      [(f"sum by (kind) (rate(socialcare_sla_events_total[{RI}]))", "{{kind}}")],
      unit="ops", desc="care.sla records: breach, hit, late.")
panel("Track events by kind",
      [(f"sum by (kind) (rate(socialcare_track_events_total[{RI}]))", "{{kind}}")],
      unit="ops", w=16)
end_row()

row("Classification")
panel("Sentiment mix",
      [("sum by (label) (increase(socialcare_classify_sentiment_total[$__range]))",
        "{{label}}")], kind="piechart")
panel("Sentiment over time",
      [(f"sum by (label) (rate(socialcare_classify_sentiment_total[{RI}]))", "{{label}}")],
      unit="reqps", stack=True)
panel("Intents and languages",
      [(f"sum by (intent) (rate(socialcare_classify_intents_total[{RI}]))", "{{intent}}"),
       (f"sum by (language) (rate(socialcare_classify_language_total[{RI}]))",
        "lang {{language}}")], unit="reqps")
end_row()

row("Routing")
panel("Route decisions per team",
      [(f"sum by (team, decision) (rate(socialcare_route_posts_total[{RI}]))",
        "{{team}} {{decision}}")], unit="reqps", stack=True)
panel("Rule matches",
      [(f"sum by (rule) (rate(socialcare_route_rule_matches_total[{RI}]))", "{{rule}}")],
      unit="reqps")
panel("Ignored posts and reloads",
      [(f"sum by (reason) (rate(socialcare_route_ignored_total[{RI}]))", "ignored {{reason}}"),
       ("sum by (result) (increase(socialcare_config_reloads_total[$__range]))",
        "reloads {{result}}")])
end_row()

row("Alerts and webhooks")
panel("Alerts by kind and severity",
      [("sum by (kind, severity) (increase(socialcare_alerts_total[$__range]))",
        "{{kind}} {{severity}}")], kind="bargauge")
panel("Webhook deliveries and failures",
      [(f"sum by (target) (rate(socialcare_webhook_deliveries_total[{RI}]))",
        "delivered {{target}}"),
       (f"sum by (target, reason) (rate(socialcare_webhook_failures_total[{RI}]))",
        "failed {{target}} {{reason}}")], unit="ops")
panel("Webhook backlog and parked",
      [("max by (target) (socialcare_webhook_pending)", "pending {{target}}"),
       ("sum by (target) (increase(socialcare_webhook_parked_total[$__range]))",
        "parked {{target}}")])
end_row()

dashboard = {
    "uid": "socialcare",
    "title": "socialcare",
    "description": "Pipeline health and customer-care figures of the socialcare workers.",
    "tags": ["socialcare"],
    "schemaVersion": 39,
    "version": 1,
    "editable": False,
    "graphTooltip": 1,
    "time": {"from": "now-6h", "to": "now"},
    "refresh": "30s",
    "timezone": "browser",
    "annotations": {"list": []},
    "links": [],
    "templating": {"list": [{
        "name": "brand",
        "label": "Brand",
        "type": "query",
        "datasource": DS,
        "definition": "label_values(socialcare_brand_received, brand)",
        "query": {"query": "label_values(socialcare_brand_received, brand)",
                  "refId": "PrometheusVariableQueryEditor-VariableQuery"},
        "refresh": 2,
        "includeAll": True,
        "allValue": ".*",
        "multi": True,
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "sort": 1,
        "hide": 0,
    }]},
    "panels": panels,
}

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dashboards", "socialcare.json")
with open(out, "w", encoding="utf-8") as f:
    json.dump(dashboard, f, indent=2, ensure_ascii=False)
    f.write("\n")
print(f"wrote {out}: {sum(p['type'] != 'row' for p in panels)} panels")
