"""The report page: one self-contained HTML file rendered from a :class:`~reports.sections.ReportPage` with a
Jinja2 template (autoescape on).

plotly.js is inlined once in <head> (``plotly.offline.get_plotlyjs()``); figures are ``<div>``s from
``fig.to_html(full_html=False, include_plotlyjs=False)``. Nothing on the page refers to a network
address: no CDN, no web font, no MathJax, no plotly logo link. Every piece of model, dataset or store text
goes through Jinja2's autoescape; only HTML that this package built itself (tables from
``reports.table_export.to_html``, which escapes its cells, and plotly's figure divs, whose JSON escapes
``<`` and whose text reports.plots.plot_text escaped) is marked safe.
"""

from __future__ import annotations

import jinja2
from markupsafe import Markup

from reports.plots import Plot
from reports.sections import ReportPage

# Plotly config for every figure: no logo (it links to plotly.com).
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}

_TEMPLATE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="spin-bench report">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0 auto;
       max-width: 1300px; padding: 0 1.5em 4em; color: #222; line-height: 1.45; }
h1 { margin-top: 1em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .8em 0; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; vertical-align: top; }
th { background: #f4f4f4; } td.text, th.text { text-align: left; }
caption { caption-side: top; font-weight: 600; text-align: left; padding: .3em 0; }
ul.footnotes, .note { font-size: 0.88em; color: #444; }
.leftout { color: #8a4b00; font-style: italic; }
.figure { margin: 1.2em 0; } .figure .caption { font-size: 0.88em; color: #444; }
pre.gen { white-space: pre-wrap; word-break: break-word; margin: 0; font-size: 0.88em; background: #fafafa;
          padding: 4px; }
table.examples td { text-align: left; max-width: 420px; }
nav ul { columns: 2; font-size: 0.9em; }
code { background: #f4f4f4; padding: 0 3px; }
</style>
<script type="text/javascript">{{ plotly_js }}</script>
</head>
<body>
<h1>{{ title }}</h1>
<p class="note">Built {{ built_at }} from results store <code>{{ store_url }}</code>{% if run_dir %} and run
directory <code>{{ run_dir }}</code>{% endif %}. Labels: {% for label in labels %}<code>{{ label }}</code>{% if not loop.last %}, {% endif %}{% endfor %}.</p>
<nav><ul>
{% for section in sections %}<li><a href="#{{ section.id }}">{{ section.title }}</a></li>
{% endfor %}</ul></nav>

<h2 id="tables">Tables</h2>
{% for table, table_html in tables %}
<section class="table" id="{{ table.id }}">
{% if table_html %}{{ table_html }}{% else %}<p class="leftout" data-left-out="{{ table.id }}">{{ table.title }}: {{ table.reason }}</p>{% endif %}
{% for note in table.notes %}<p class="note">{{ note }}</p>{% endfor %}
</section>
{% endfor %}

<h2 id="figures">Figures</h2>
{% for section, figure_html in figures %}{% set plot = section.plot %}
<section class="figure" id="{{ plot.key }}">
{% if figure_html %}{{ figure_html }}
{% if plot.caption %}<p class="caption">{{ plot.caption }}</p>{% endif %}
{% if section.tests %}<table class="{{ section.tests.css_class }}"><tr><th class="text">{{ section.tests.heading }}</th>
{%- for column in section.tests.columns %}<th>{{ column }}</th>{% endfor %}</tr>
{%- for row in section.tests.rows %}<tr><td class="text">{{ row.name }}</td>
{%- for cell in row.cells %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}</table>{% endif %}{% for note in section.notes %}<p class="note">{{ note }}</p>{% endfor %}
{% else %}<p class="leftout" data-left-out="{{ plot.key }}">{{ plot.title }}: {{ plot.reason }}</p>{% endif %}
</section>
{% endfor %}
{% if static_message %}<p class="note">{{ static_message }}</p>{% endif %}

<h2 id="examples">Generation examples (paper Tables 7 and 8)</h2>
{% if examples.rows %}
<p class="note">{{ examples.note }}</p>
{% for ex in examples.rows %}
<table class="examples">
<caption>Prompt {{ ex.prompt_id }}</caption>
<tr><th class="text">Prompt</th><td><pre class="gen">{{ ex.prompt }}</pre></td></tr>
<tr><th class="text">Ground truth</th><td><pre class="gen">{{ ex.real }}</pre></td></tr>
{% for answer in ex.answers %}<tr><th class="text">{{ answer.who }}</th><td><pre class="gen">{{ answer.text }}</pre></td></tr>
{% endfor %}</table>
{% endfor %}
{% else %}<p class="leftout" data-left-out="examples">{{ examples.note }}</p>{% endif %}

<h2 id="mt-bench-examples">MT-Bench answers</h2>
{% if mt_bench.rows %}
<p class="note">{{ mt_bench.note }}</p>
{% for ex in mt_bench.rows %}
<table class="examples">
<caption>Question {{ ex.question_id }} ({{ ex.category }})</caption>
{% for turn in ex.turns %}<tr><th class="text">Turn {{ turn.turn }}</th><td><pre class="gen">{{ turn.question }}</pre></td></tr>
{% for answer in turn.answers %}<tr><th class="text">{{ answer.who }} (rated {{ answer.score }})</th><td><pre class="gen">{{ answer.text }}</pre></td></tr>
{% endfor %}{% endfor %}</table>
{% endfor %}
{% else %}<p class="leftout" data-left-out="mt-bench-examples">{{ mt_bench.note }}</p>{% endif %}
{% if flips %}
<h2 id="flips">Per-item flips between consecutive stages</h2>
{% if flips.section.pairs %}<p class="note">{{ flips.section.note }}</p>
{% for pair, pair_figure in flips.pairs %}
<section class="flips" id="flips-{{ pair.a }}-{{ pair.b }}">
<h3>{{ pair.a }} → {{ pair.b }}</h3>
{% if pair_figure %}{{ pair_figure }}<p class="caption">{{ pair.plot.caption }}</p>{% else %}<p class="leftout">{{ pair.plot.title }}: {{ pair.plot.reason }}</p>{% endif %}
{% if pair.counts %}<table class="flip-counts"><tr><th class="text">task</th><th>right → wrong</th><th>wrong → right</th><th>McNemar p (Holm)</th></tr>
{% for c in pair.counts %}<tr><td class="text">{{ c.task }}</td><td>{{ c.right_to_wrong }}</td><td>{{ c.wrong_to_right }}</td><td>{{ c.p }}</td></tr>
{% endfor %}</table>{% endif %}
{% for ex in pair.examples %}
<table class="examples flip-example">
<caption>{{ ex.task }}, document {{ ex.doc }}: {{ ex.direction }}</caption>
<tr><th class="text">Prompt</th><td><pre class="gen">{{ ex.prompt }}</pre></td></tr>
<tr><th class="text">Gold</th><td><pre class="gen">{{ ex.gold }}</pre></td></tr>
<tr><th class="text">{{ pair.a }}</th><td><pre class="gen">{{ ex.a_answer }}</pre></td></tr>
<tr><th class="text">{{ pair.b }}</th><td><pre class="gen">{{ ex.b_answer }}</pre></td></tr>
</table>
{% endfor %}
{% for q in pair.mt_bench %}
<table class="examples flip-mt-bench">
<caption>MT-Bench question {{ q.question_id }} ({{ q.category }})</caption>
{% for turn in q.turns %}<tr><th class="text">Turn {{ turn.turn }}</th><td><pre class="gen">{{ turn.question }}</pre></td></tr>
{% for answer in turn.answers %}<tr><th class="text">{{ answer.who }} (rated {{ answer.score }})</th><td><pre class="gen">{{ answer.text }}</pre></td></tr>
{% endfor %}{% endfor %}</table>
{% endfor %}
{% for note in pair.notes %}<p class="note">{{ note }}</p>{% endfor %}
</section>
{% endfor %}
{% else %}<p class="leftout" data-left-out="flips">{{ flips.section.note }}</p>{% endif %}
{% endif %}

<h2 id="provenance">Provenance</h2>
<p class="note">Where every number above comes from: one row per stored evaluation of these labels (the newest
one of each label, suite and task is the one shown in the tables).</p>
{% for block in provenance %}
<h3>{{ block.title }}</h3>
{% if block.rows %}
<table class="provenance">
<tr>{% for column in block.columns %}<th class="text">{{ column }}</th>{% endfor %}</tr>
{% for row in block.rows %}<tr>{% for cell in row %}<td class="text">{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</table>
{% else %}<p class="note">{{ block.empty }}</p>{% endif %}
{% endfor %}
</body>
</html>
"""

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=False)


def figure_html(plot: Plot) -> Markup | None:
    """The figure's <div> and its Plotly.newPlot call, with a stable element id (the plot's key)."""
    if plot.figure is None:
        return None
    return Markup(plot.figure.to_html(full_html=False, include_plotlyjs=False, include_mathjax=False,
                                      div_id=f"plot-{plot.key}", config=PLOTLY_CONFIG))


def render_page(page: ReportPage) -> str:
    """The whole page. ``TableSection.html`` must already be escaped HTML (``reports.table_export.to_html``)."""
    tables = [(table, Markup(table.html) if table.html else None) for table in page.tables]
    figures = [(section, figure_html(section.plot)) for section in page.figures]
    sections = [{"id": "tables", "title": "Tables"},
                *({"id": t.id, "title": t.title} for t in page.tables),
                {"id": "figures", "title": "Figures"},
                *({"id": f.id, "title": f.title} for f in page.figures),
                {"id": "examples", "title": "Generation examples"},
                {"id": "mt-bench-examples", "title": "MT-Bench answers"},
                *([{"id": "flips", "title": "Per-item flips"}] if page.flips else []),
                {"id": "provenance", "title": "Provenance"}]
    flips = None if page.flips is None else {
        "section": page.flips, "pairs": [(pair, figure_html(pair.plot)) for pair in page.flips.pairs]}
    # "</script" cannot occur inside plotly.js's text in a way that closes the tag early: plotly's own
    # full_html output inlines the same file the same way.
    return _ENV.from_string(_TEMPLATE).render(
        title=page.title, plotly_js=Markup(page.plotly_js), store_url=page.store_url, run_dir=page.run_dir,
        built_at=page.built_at, labels=list(page.labels), sections=sections, tables=tables, figures=figures,
        examples=page.examples, provenance=list(page.provenance), static_message=page.static_message,
        mt_bench=page.mt_bench, flips=flips)
