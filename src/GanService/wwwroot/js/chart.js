// A line chart drawn on a canvas by hand: a few series over training steps, axes with round ticks and a legend.
// No charting library, so the page needs nothing beyond what the host serves.

const Colors = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df'];

export class LineChart {
  /** series: [{ key, label }]; points are added as { step, [key]: value }. */
  constructor(canvas, series, { height = 260 } = {}) {
    this.canvas = canvas;
    this.series = series.map((s, i) => ({ ...s, color: s.color ?? Colors[i % Colors.length] }));
    this.points = [];
    this.height = height;
    canvas.height = height;
    this.observer = new ResizeObserver(() => this.draw());
    this.observer.observe(canvas);
  }

  /**
   * Adds rows (kept sorted by step, one per step) and redraws once. With `merge`, a row's values join those
   * already at its step (several runs' series on one chart) instead of replacing them.
   */
  add(rows, merge = false) {
    const byStep = new Map(this.points.map((p) => [p.step, p]));
    for (const row of rows) byStep.set(row.step, merge ? { ...byStep.get(row.step), ...row } : row);
    this.points = [...byStep.values()].sort((a, b) => a.step - b.step);
    this.draw();
  }

  get count() {
    return this.points.length;
  }

  draw() {
    const { canvas } = this;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth || 600;
    const height = this.height;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.dataset.points = String(this.points.length);
    const g = canvas.getContext('2d');
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    g.font = '12px system-ui, sans-serif';
    const pad = { left: 48, right: 12, top: 28, bottom: 28 };
    const plotW = width - pad.left - pad.right;
    const plotH = height - pad.top - pad.bottom;

    this.legend(g, pad.left);
    if (this.points.length === 0) {
      g.fillStyle = '#57606a';
      g.fillText('No metrics yet', pad.left + 8, pad.top + plotH / 2);
      return;
    }
    const values = this.points.flatMap((p) => this.series.map((s) => p[s.key])).filter(Number.isFinite);
    let [low, high] = [Math.min(...values), Math.max(...values)];
    if (low === high) [low, high] = [low - 1, high + 1];
    const first = this.points[0].step;
    const last = Math.max(this.points[this.points.length - 1].step, first + 1);
    const x = (step) => pad.left + ((step - first) / (last - first)) * plotW;
    const y = (v) => pad.top + (1 - (v - low) / (high - low)) * plotH;

    g.strokeStyle = '#d0d7de';
    g.fillStyle = '#57606a';
    g.lineWidth = 1;
    for (const tick of ticks(low, high, 5)) {
      g.beginPath();
      g.moveTo(pad.left, y(tick));
      g.lineTo(pad.left + plotW, y(tick));
      g.stroke();
      g.fillText(format(tick), 4, y(tick) + 4);
    }
    for (const tick of ticks(first, last, 6)) {
      g.fillText(String(Math.round(tick)), x(tick) - 8, height - 8);
    }
    for (const s of this.series) {
      g.strokeStyle = s.color;
      g.lineWidth = 2;
      g.beginPath();
      let started = false;
      for (const p of this.points) {
        if (!Number.isFinite(p[s.key])) continue;
        if (started) g.lineTo(x(p.step), y(p[s.key]));
        else g.moveTo(x(p.step), y(p[s.key]));
        started = true;
      }
      g.stroke();
    }
  }

  legend(g, left) {
    let at = left;
    for (const s of this.series) {
      g.fillStyle = s.color;
      g.fillRect(at, 8, 12, 12);
      g.fillStyle = '#24292f';
      g.fillText(s.label, at + 16, 18);
      at += g.measureText(s.label).width + 36;
    }
  }
}

/** Round tick values (1, 2 or 5 times a power of ten) covering [low, high]. */
function ticks(low, high, count) {
  const raw = (high - low) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const out = [];
  for (let t = Math.ceil(low / step) * step; t <= high + step * 1e-9; t += step) out.push(t);
  return out;
}

const format = (v) => (Math.abs(v) >= 1000 || (v !== 0 && Math.abs(v) < 0.01) ? v.toExponential(1) : +v.toFixed(2));
