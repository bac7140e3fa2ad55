package loadtest

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"
)

// Chart geometry of the HTML report, in SVG user units.
const (
	chartW, chartH = 720, 240
	padL, padR     = 64, 16
	padT, padB     = 28, 32
)

// palette: distinguishable lines for up to eight series, then repeated.
var palette = []string{"#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4d7c0f", "#be185d"}

type line struct {
	name string
	xs   []float64
	ys   []float64
}

// lineChart draws series as an inline SVG with axes, ticks and a legend.
func lineChart(title, unit string, lines []line) template.HTML {
	maxX, maxY := 1.0, 0.0
	for _, l := range lines {
		for i := range l.xs {
			maxX, maxY = math.Max(maxX, l.xs[i]), math.Max(maxY, l.ys[i])
		}
	}
	if maxY == 0 {
		maxY = 1
	}
	maxY = niceCeil(maxY)
	x := func(v float64) float64 { return padL + v/maxX*(chartW-padL-padR) }
	y := func(v float64) float64 { return chartH - padB - v/maxY*(chartH-padT-padB) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %d %d" role="img" aria-label="%s">`, chartW, chartH, template.HTMLEscapeString(title))
	fmt.Fprintf(&b, `<text x="%d" y="18" class="t">%s</text>`, padL, template.HTMLEscapeString(title))
	for i := 0; i <= 4; i++ {
		v := maxY * float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" class="g"/><text x="%d" y="%.1f" class="a" text-anchor="end">%s</text>`,
			padL, chartW-padR, y(v), y(v), padL-6, y(v)+4, fmtAxis(v, unit))
	}
	for i := 0; i <= 5; i++ {
		v := maxX * float64(i) / 5
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="a" text-anchor="middle">%.0fs</text>`, x(v), chartH-padB+16, v)
	}
	for i, l := range lines {
		c := palette[i%len(palette)]
		var pts []string
		for j := range l.xs {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(l.xs[j]), y(l.ys[j])))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.8" points="%s"/>`, c, strings.Join(pts, " "))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d" class="a">%s</text>`,
			padL+8+i*130, chartH-10, c, padL+22+i*130, chartH-1, template.HTMLEscapeString(l.name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// barChart draws one group of bars per step: its latency percentiles.
func barChart(title string, steps []Step) template.HTML {
	labels := []string{"p50", "p90", "p99", "p99.9", "max"}
	maxY := 0.0
	for _, s := range steps {
		maxY = math.Max(maxY, s.Latency.Max)
	}
	if maxY == 0 {
		maxY = 1
	}
	maxY = niceCeil(maxY)
	groupW := float64(chartW-padL-padR) / math.Max(1, float64(len(steps)))
	barW := groupW / float64(len(labels)+1)
	y := func(v float64) float64 { return chartH - padB - v/maxY*(chartH-padT-padB) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %d %d" role="img" aria-label="%s"><text x="%d" y="18" class="t">%s</text>`,
		chartW, chartH, template.HTMLEscapeString(title), padL, template.HTMLEscapeString(title))
	for i := 0; i <= 4; i++ {
		v := maxY * float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" class="g"/><text x="%d" y="%.1f" class="a" text-anchor="end">%s</text>`,
			padL, chartW-padR, y(v), y(v), padL-6, y(v)+4, fmtAxis(v, "ms"))
	}
	for g, s := range steps {
		vals := []float64{s.Latency.P50, s.Latency.P90, s.Latency.P99, s.Latency.P999, s.Latency.Max}
		for i, v := range vals {
			x0 := float64(padL) + float64(g)*groupW + float64(i)*barW + barW/2
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s %.2f ms</title></rect>`,
				x0, y(v), barW*0.9, chartH-padB-y(v), palette[i], template.HTMLEscapeString(s.Name), labels[i], v)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="a" text-anchor="middle">%s</text>`,
			float64(padL)+float64(g)*groupW+groupW/2, chartH-padB+16, template.HTMLEscapeString(s.Name))
	}
	for i, l := range labels {
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d" class="a">%s</text>`,
			padL+8+i*80, chartH-10, palette[i], padL+22+i*80, chartH-1, l)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func fmtNum(v float64) string {
	switch {
	case v >= 1e9:
		return trimZero(fmt.Sprintf("%.2f", v/1e9)) + "G"
	case v >= 1e6:
		return trimZero(fmt.Sprintf("%.2f", v/1e6)) + "M"
	case v >= 1e4:
		return trimZero(fmt.Sprintf("%.1f", v/1e3)) + "k"
	case v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	}
	return trimZero(fmt.Sprintf("%.2f", v))
}

// fmtAxis formats an axis tick: milliseconds past a second read as seconds.
func fmtAxis(v float64, unit string) string {
	if unit == "ms" && v >= 1000 {
		return fmtNum(v/1000) + "s"
	}
	return fmtNum(v) + unit
}

// fmtSummary formats a headline figure, bytes in binary units.
func fmtSummary(key string, v float64) string {
	if strings.HasSuffix(key, "_bytes") {
		switch {
		case v >= 1<<30:
			return trimZero(fmt.Sprintf("%.2f", v/(1<<30))) + " GiB"
		case v >= 1<<20:
			return trimZero(fmt.Sprintf("%.1f", v/(1<<20))) + " MiB"
		case v >= 1<<10:
			return trimZero(fmt.Sprintf("%.1f", v/(1<<10))) + " KiB"
		}
	}
	return fmtNum(v)
}

func trimZero(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var reportPage = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Atoll load test — {{.R.Scenario}}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1480px;color:#111;padding:0 16px}
h1{font-size:22px;margin:0 0 4px} .sub{color:#555;margin:0 0 16px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0 20px}
.card{border:1px solid #ddd;border-radius:8px;padding:10px 14px;min-width:150px}
.card b{display:block;font-size:20px} .ok{color:#15803d} .bad{color:#b91c1c}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(640px,1fr));gap:16px}
svg{width:100%;height:auto;border:1px solid #eee;border-radius:8px;background:#fff}
svg .t{font-weight:600;font-size:13px} svg .a{font-size:11px;fill:#555} svg .g{stroke:#eee}
table{border-collapse:collapse;margin:8px 0 20px} td,th{border-bottom:1px solid #eee;padding:4px 10px;text-align:right}
th:first-child,td:first-child{text-align:left}
</style></head><body>
<h1>Atoll load test: {{.R.Scenario}}</h1>
<p class="sub">{{.R.Players}} virtual players, ramp {{.R.Ramp}}, {{printf "%.1f" .R.Seconds}} s, started {{.R.StartedAt.Format "2006-01-02 15:04:05 UTC"}} against {{.R.Target}}{{if .R.CellURL}} and {{.R.CellURL}}{{end}}</p>
<div class="cards">
{{range .Cards}}<div class="card">{{.Label}}<b>{{.Value}}</b></div>{{end}}
{{range .R.SLOs}}<div class="card">SLO {{.SLO}}<b class="{{if .Met}}ok{{else}}bad{{end}}">{{if .Met}}met{{else}}breached{{end}}</b>actual {{.Actual}}</div>{{end}}
</div>
<div class="grid">{{range .Charts}}<div>{{.}}</div>{{end}}</div>
<h2>Steps</h2>
<table><tr><th>step</th><th>ok</th><th>errors</th><th>per second</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th></tr>
{{range .R.Steps}}<tr><td>{{.Name}}</td><td>{{.Count}}</td><td>{{.Errors}}</td><td>{{printf "%.1f" .Throughput}}</td><td>{{printf "%.2f" .Latency.P50}}</td><td>{{printf "%.2f" .Latency.P90}}</td><td>{{printf "%.2f" .Latency.P99}}</td><td>{{printf "%.2f" .Latency.P999}}</td><td>{{printf "%.2f" .Latency.Max}}</td></tr>{{end}}
</table>
{{if .Errors}}<h2>Errors by kind</h2><table><tr><th>step</th><th>kind</th><th>count</th></tr>
{{range .Errors}}<tr><td>{{.Step}}</td><td>{{.Kind}}</td><td>{{.Count}}</td></tr>{{end}}</table>{{end}}
</body></html>
`))

type card struct{ Label, Value string }
type errRow struct {
	Step, Kind string
	Count      int64
}

// WriteHTML writes the report as one self-contained HTML page with charts:
// latency over time, throughput, errors, the gauges and the percentiles.
func (r *Result) WriteHTML(w io.Writer) error {
	var lat, tput, errs []line
	for _, s := range r.Steps {
		p50, p99, n, e := line{name: s.Name + " p50"}, line{name: s.Name + " p99"}, line{name: s.Name}, line{name: s.Name}
		for _, p := range s.Series {
			n.xs, n.ys = append(n.xs, p.T), append(n.ys, float64(p.Count))
			e.xs, e.ys = append(e.xs, p.T), append(e.ys, float64(p.Errors))
			if p.Count > 0 {
				p50.xs, p50.ys = append(p50.xs, p.T), append(p50.ys, p.Latency.P50)
				p99.xs, p99.ys = append(p99.xs, p.T), append(p99.ys, p.Latency.P99)
			}
		}
		lat, tput, errs = append(lat, p50, p99), append(tput, n), append(errs, e)
	}
	charts := []template.HTML{
		lineChart("Latency over time (p50 and p99)", "ms", lat),
		lineChart("Throughput (successful steps per second)", "/s", tput),
		barChart("Latency percentiles by step", r.Steps),
		lineChart("Errors per second", "", errs),
	}
	for _, k := range sortedKeys(r.Gauges) {
		var l line
		l.name = k
		for _, p := range r.Gauges[k] {
			l.xs, l.ys = append(l.xs, p.T), append(l.ys, p.V)
		}
		charts = append(charts, lineChart(strings.ReplaceAll(k, "_", " "), "", []line{l}))
	}
	var cards []card
	for _, k := range sortedKeys(r.Summary) {
		cards = append(cards, card{strings.ReplaceAll(k, "_", " "), fmtSummary(k, r.Summary[k])})
	}
	var rows []errRow
	for _, s := range r.Steps {
		for _, k := range sortedKeys(s.ErrorKinds) {
			rows = append(rows, errRow{s.Name, k, s.ErrorKinds[k]})
		}
	}
	return reportPage.Execute(w, map[string]any{"R": r, "Charts": charts, "Cards": cards, "Errors": rows})
}
