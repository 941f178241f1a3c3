"""Text and Markdown reports of the benchmark rows."""

import datetime


# ------------------------------------------------------------------ numbers


def fs(sec):
    if sec is None:
        return ""
    if sec < 0.1:
        return "%.2f ms" % (sec * 1e3)
    if sec < 10:
        return "%.3f s" % sec
    return "%.1f s" % sec


def fus(sec):
    """Seconds as microseconds (per-step figures)."""
    return "%.0f" % (1e6 * sec) if sec >= 1e-5 else "%.1f" % (1e6 * sec)


def frange(lo, hi):
    if lo is None:
        return ""
    if hi < 0.1:
        return "%.2f–%.2f ms" % (lo * 1e3, hi * 1e3)
    return "%.3f–%.3f s" % (lo, hi) if hi < 10 else "%.1f–%.1f s" % (lo, hi)


def frate(x):
    if x is None:
        return ""
    if x >= 1e6:
        return "%.2fM/s" % (x / 1e6)
    if x >= 1e3:
        return "%.1fk/s" % (x / 1e3)
    return "%.0f/s" % x


def fpct(x):
    return "" if x is None else "%.1f %%" % (100 * x)


def fx(x):
    return "" if x is None else "%.2f×" % x


def fmb(b):
    return "" if b is None else "%.1f MB" % (b / 2 ** 20)


def fload(x):
    return "" if x is None else "%.2f" % x


def ftarget(r, kind="share"):
    if "status" not in r:
        return ""
    t = r["target"]
    if kind == "share":
        return "≥ %d %% %s" % (round(100 * t), r["status"])
    if kind == "overhead":
        return "≤ +%d %% %s" % (round(100 * t), r["status"])
    return "≥ %.1f× %s" % (t, r["status"])


# ------------------------------------------------------------------ tables


def table(headers, body, md, group=0):
    """Aligned text (a blank line whenever the first ``group`` cells change)
    or a Markdown table."""
    body = [[str(c) for c in row] for row in body]
    if md:
        out = ["| " + " | ".join(headers) + " |",
               "|" + "|".join("---" for _ in headers) + "|"]
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in body]
        return "\n".join(out)
    w = [max(len(h), *(len(r[i]) for r in body)) if body else len(h)
         for i, h in enumerate(headers)]
    def line(cells):
        return "  ".join(c.ljust(w[i]) for i, c in enumerate(cells)).rstrip()

    out = [line(headers), line(["-" * x for x in w])]
    prev = None
    for row in body:
        key = tuple(row[:group])
        if group and prev is not None and key != prev:
            out.append("")
        out.append(line(row))
        prev = key
    return "\n".join(out)


# ------------------------------------------------------------------ machine


def machine_lines(info):
    lines = ["Machine: %s, %s CPUs, %s, Python %s" % (
        info["cpu"], info["cpus"], info["platform"], info["python"])]
    torch = info.get("torch", "not installed")
    if torch != "not installed":
        torch = "%s (%s, %s threads by default)" % (torch, info.get("torch_blas"),
                                                     info.get("torch_threads"))
    if info.get("git"):
        lines.append("cymlp checkout: %s" % info["git"])
    lines.append("Versions: cymlp %s, scikit-learn %s, numpy %s, scipy %s, torch %s" % (
        info.get("cymlp"), info["sklearn"], info["numpy"], info["scipy"], torch))
    for b in info["blas"]:
        lines.append("BLAS/OpenMP: %s %s %s (%s, %s, %s threads) <- %s" % (
            b["library"], b["internal_api"], b["version"] or "", b["architecture"] or "-",
            b["threading_layer"] or "-", b["num_threads"], b["used_by"]))
    if info.get("env"):
        lines.append("Environment: " + " ".join("%s=%s" % kv for kv in sorted(info["env"].items())))
    la = info.get("loadavg_start")
    if la:
        lines.append("Load average at start: %.2f %.2f %.2f%s" % (
            la[0], la[1], la[2], "" if la[0] < 1.0 else
            "  (the machine is busy: timings will be noisy)"))
    return lines


def progress_line(rows, seconds):
    if not rows:
        return ""
    r0 = rows[0]
    case = "" if r0["section"] == "profile" else r0.get("case", "")
    head = "%-8s %-22s %-7s thr=%s" % (r0["workload"], case, r0.get("dtype", ""),
                                      r0.get("threads", "-"))
    parts = []
    for r in rows:
        if "error" in r and "median" not in r:
            parts.append("%s: %s" % (r["impl"], r["error"][:60]))
        elif "median" in r:
            extra = ""
            if "share" in r and r["impl"] not in ("gemm-only",):
                extra = " (%s)" % fpct(r["share"])
            if "status" in r:
                extra += " " + r["status"]
            name = r["case"] if r["section"] == "profile" else r["impl"]
            parts.append("%s %s%s" % (name, fs(r["median"]), extra))
        elif "peak_bytes" in r:
            parts.append("%s peak %s" % (r["impl"], fmb(r["peak_bytes"])))
    load = r0.get("foreign_load")
    tail = "   [%.0f s%s]" % (seconds, "" if load is None else ", other CPU %.2f" % load)
    return head + ": " + " | ".join(parts) + tail


# ------------------------------------------------------------------ report


def _sections(rows, md, quick=False):
    out = []
    core = [r for r in rows if r["section"] == "core"]
    if core:
        titles = []
        for r in core:
            t = "%s: %s" % (r["workload"], r.get("title", ""))
            if r.get("note"):
                t += " (%s %s)" % (r["dtype"], r["note"])
            if t not in titles:
                titles.append(t)
        out.append(("Workloads", "\n".join(("- " if md else "  ") + t for t in titles)))
        fastest_gemm = {(r["workload"], r["case"], r["dtype"], r["threads"]): r.get("min")
                        for r in core if r["impl"] == "gemm-only"}
        body = []
        for r in core:
            g = fastest_gemm.get((r["workload"], r["case"], r["dtype"], r["threads"]))
            fastest = g / r["min"] if g and r.get("min") else None
            acc = ""
            if r.get("acc") is not None:
                acc = "%.3f%s" % (r["acc"], "" if r.get("acc_kind") == "test" else " (train)")
            body.append([r["workload"], r["case"], r["dtype"], r["threads"], r["impl"],
                         fs(r.get("median")) or r.get("error", ""),
                         frange(r.get("min"), r.get("max")),
                         frate(r.get("samples_per_s")), fpct(r.get("share")),
                         fpct(fastest), fx(r.get("speedup")), acc, ftarget(r),
                         fload(r.get("foreign_load"))])
        out.append(("Training (fit): time, share of the gemm-only limit, cymlp's speedup",
                    table(["Workload", "Case", "dtype", "BLAS thr", "Impl", "Median",
                           "Min–max", "Samples/s", "Share of gemm-only",
                           "Share, fastest runs", "cymlp speedup", "Accuracy",
                           "Target (cymlp)", "Other CPU"], body, md, group=4)))
    opt = [r for r in rows if r["section"] == "opt"]
    if opt:
        body = [[r["dtype"], r["threads"], r["impl"], fs(r["median"]),
                 frange(r["min"], r["max"]), fpct(r["share"]),
                 "" if "overhead" not in r else "%+.1f %%" % (100 * r["overhead"]),
                 ftarget(r, "overhead"), fload(r.get("foreign_load"))] for r in opt]
        out.append(("Optimizers: cymlp on W2 (%s samples), batch 128, 1 epoch" % opt[0]["n"]
                    if len({r["n"] for r in opt}) == 1 else
                    "Optimizers: cymlp on W2, batch 128, 1 epoch",
                    table(["dtype", "BLAS thr", "Variant", "Median", "Min–max",
                           "Share of gemm-only", "Time vs plain SGD", "Target",
                           "Other CPU"], body, md, group=2)))
    pred = [r for r in rows if r["section"] == "predict"]
    if pred:
        body = [[r["dtype"], r["threads"], r["impl"], r["n"], fs(r["median"]),
                 frange(r["min"], r["max"]), frate(r["samples_per_s"]), fpct(r["share"]),
                 fx(r.get("speedup")), ftarget(r), fload(r.get("foreign_load"))] for r in pred]
        out.append(("Prediction on W2's data vs the forward-only gemm limit (chunks of 1024 rows)",
                    table(["dtype", "BLAS thr", "Impl", "Rows", "Median", "Min–max", "Rows/s",
                           "Share of forward gemm", "cymlp speedup", "Target",
                           "Other CPU"], body, md, group=2)))
    mem = [r for r in rows if r["section"] == "memory"]
    if mem:
        body = [[r["dtype"], r["impl"], r["n"], fmb(r["x_bytes"]), fmb(r["param_bytes"]),
                 fmb(r["batch_buffer_bytes"]), fmb(r["peak_bytes"]), fmb(r["kept_bytes"]),
                 "%.1f×" % (r["peak_bytes"] / max(r["param_bytes"] + r["batch_buffer_bytes"], 1))]
                for r in mem]
        out.append(("Memory of fit (tracemalloc: NumPy allocations are traced, BLAS-internal "
                    "buffers are not), W2 batch 128, 1 epoch",
                    table(["dtype", "Impl", "Rows", "X", "Parameters", "Batch buffers",
                           "Peak during fit, above X", "Kept after fit",
                           "Peak / (params + buffers)"], body, md)))
    sc = [r for r in rows if r["section"] == "scaling"]
    if sc:
        body = [[r["dtype"], r["threads"], r["impl"], r["n"], fs(r["median"]),
                 frange(r["min"], r["max"]), "%.2f µs" % r["us_per_sample"],
                 "%.2f×" % r["vs_smallest"], fload(r.get("foreign_load"))] for r in sc]
        out.append(("Linear scaling: one epoch of W2 (batch 128) on growing subsets",
                    table(["dtype", "BLAS thr", "Impl", "Samples", "Median", "Min–max",
                           "Time per sample", "Per sample vs smallest", "Other CPU"], body, md, group=3)))
    th = [r for r in rows if r["section"] == "threads"]
    if th:
        body = [[r["dtype"], r["n"], r["impl"], fs(r["median"]), frange(r["min"], r["max"]),
                 fx(r.get("speedup_vs_sequential")), ftarget(r, "x"),
                 fload(r.get("foreign_load")), r.get("error", "")] for r in th]
        out.append(("Two independent cymlp fits (W2 batch 128, 1 epoch each), BLAS at 1 "
                    "thread: two Python threads vs one after the other",
                    table(["dtype", "Samples", "Mode", "Median", "Min–max",
                           "Speedup", "Target", "Other CPU", "Error"], body, md)))
    gs = [r for r in rows if r["section"] == "gridsearch"]
    if gs:
        def same(r):
            return "" if "same_scores" not in r else ("yes" if r["same_scores"] else "NO")
        body = [[r["dtype"], r["n"], r["impl"], fs(r["median"]), frange(r["min"], r["max"]),
                 "%.1f" % r["fits_per_s"], fx(r.get("speedup_vs_sequential")),
                 fx(r.get("speedup_vs_loky")), fs(r.get("first_seconds")), same(r),
                 fload(r.get("foreign_load"))] for r in gs]
        out.append(("%s (BLAS at 1 thread per fit; n_jobs=%d): threads vs loky processes vs "
                    "sequential" % (gs[0]["case"], gs[0]["n_jobs"]),
                    table(["dtype", "Samples", "Backend", "Median", "Min–max", "Fits/s",
                           "Speedup vs sequential", "Threads vs loky",
                           "First run (loky: workers start)", "Same scores as sequential",
                           "Other CPU"], body, md, group=1)))
    prof = [r for r in rows if r["section"] == "profile"]
    if prof:
        body = []
        for r in prof:
            ph = r["phases"]
            products = ph["forward products"] + ph["backward products"]
            rest = r["step_seconds"] - products
            body.append([r["dtype"], r["threads"], r["case"], fus(r["step_seconds"]),
                         fus(r["gemm_step_seconds"]), fus(products),
                         "%.2f" % (products / r["gemm_step_seconds"]),
                         fus(ph["gather"]), fus(ph["forward elementwise"]),
                         fus(ph["output and loss"]), fus(ph["backward elementwise"]),
                         fus(ph["optimizer"]), fpct(rest / r["step_seconds"]),
                         fpct(r["share"]), fload(r.get("foreign_load"))])
        out.append(("Where a training step's time goes: cymlp's engine with its phase profile "
                    "(µs per step, medians), beside the gemm-only time of the same steps",
                    table(["dtype", "BLAS thr", "Case", "Step", "gemm-only", "Products",
                           "Products / gemm-only", "Gather", "Bias + act", "Output + loss",
                           "Backward elementwise", "Optimizer", "Outside the products",
                           "Share of gemm-only", "Other CPU"], body, md, group=2)))
    errs = [r for r in rows if r.get("error") and r["error"] != "not installed"]
    if errs:
        body = [[r["workload"], r.get("case", ""), r.get("dtype", ""), r.get("threads", ""),
                 r["impl"], r["error"]] for r in errs]
        out.append(("Errors", table(["Workload", "Case", "dtype", "BLAS thr", "Impl", "Error"],
                                    body, md)))
    targets = [r for r in rows if "status" in r]
    if targets:
        body = []
        for r in targets:
            if r["section"] == "core":
                what = "%s %s: cymlp fit, share of gemm-only" % (r["workload"], r["case"])
                val, tg = fpct(r["share"]), "≥ %d %%" % round(100 * r["target"])
            elif r["section"] == "opt":
                what = "%s vs plain SGD (time)" % r["impl"]
                val, tg = "%+.1f %%" % (100 * r["overhead"]), "≤ +10 %"
            elif r["section"] == "predict":
                what = "predict_proba, share of forward gemm-only"
                val, tg = fpct(r["share"]), "≥ %d %%" % round(100 * r["target"])
            else:
                what = "2 fits in 2 Python threads vs sequential"
                val, tg = fx(r["speedup_vs_sequential"]), "≥ 1.6×"
            body.append([what, r["dtype"], r.get("threads", ""), val, tg, r["status"]])
        n_pass = sum(r["status"] == "PASS" for r in targets)
        out.append(("Targets: %d PASS, %d MISS%s" % (
                        n_pass, len(targets) - n_pass,
                        " (quick run: reduced sizes, indicative only)" if quick else ""),
                    table(["Target", "dtype", "BLAS thr", "cymlp", "Goal", ""], body, md)))
    return out


def _header(info):
    lines = machine_lines(info)
    la = info.get("loadavg_end")
    if la:
        lines.append("Load average at end: %.2f %.2f %.2f" % tuple(la))
    lines.append("Method: one process; each implementation warmed up once per workload "
                 "(1 epoch on a slice), then %d repetitions interleaved round-robin%s; "
                 "medians; time.perf_counter.%s" % (
                     info["reps"],
                     ", each run after a %g s pause (other thread pools' spinning workers "
                     "asleep)" % info["settle"] if info.get("settle") else "",
                     " QUICK smoke run: reduced sizes, not for comparison."
                     if info.get("quick") else ""))
    lines.append("Share of gemm-only = gemm-only time / implementation time (1 = the matrix "
                 "products alone); cymlp speedup = peer time / cymlp time; both, and the "
                 "optimizers' time vs plain SGD, are medians of the ratios within each "
                 "repetition (paired, so a slow spell of a shared machine hits both sides); "
                 "'Share, fastest runs' = fastest gemm-only run / fastest run of the "
                 "implementation (what the code reaches when the machine leaves it alone; "
                 "the targets are judged on the medians); "
                 "'Other CPU' = cores used by other processes during the block.")
    lines.append("Total benchmark time: %.0f s" % info.get("total_seconds", 0))
    return lines


def _date(info):
    return info.get("date") or datetime.datetime.now().strftime("%Y-%m-%d %H:%M")


def text(info, rows):
    out = ["cymlp benchmark, %s" % _date(info), ""]
    out += _header(info)
    for title, body in _sections(rows, md=False, quick=info.get("quick")):
        out += ["", "== %s ==" % title, body]
    return "\n".join(out)


def markdown(info, rows):
    out = ["## cymlp benchmark (%s)" % _date(info), ""]
    out += ["- " + line for line in _header(info)]
    for title, body in _sections(rows, md=True, quick=info.get("quick")):
        out += ["", "### %s" % title, "", body]
    return "\n".join(out)
