// ECharts from npm, only the parts the risk map's charts use (line and bar charts on a grid of axes, their
// tooltip and legend, drawn on canvas): the route's chunk carries these, not the whole library.
import * as echarts from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([LineChart, BarChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export { echarts };

/**
 * The tooltip of an axis as a DOM node built with textContent: ECharts puts a string tooltip in as HTML with inline
 * styles, which the console's Content-Security-Policy refuses and which would turn a name from data into markup.
 */
export function axisTooltip(params, valueText = (v) => (v === null || v === undefined ? '—' : String(v))) {
  const list = Array.isArray(params) ? params : [params];
  const box = document.createElement('div');
  box.className = 'chart-tip';
  const head = document.createElement('div');
  head.className = 'chart-tip-head';
  head.textContent = list[0]?.axisValueLabel ?? list[0]?.name ?? '';
  box.append(head);
  for (const p of list) {
    const row = document.createElement('div');
    row.className = 'chart-tip-row';
    const dot = document.createElement('span');
    dot.className = 'chart-tip-dot';
    dot.style.backgroundColor = typeof p.color === 'string' ? p.color : '#888'; // CSSOM: allowed by the CSP
    const name = document.createElement('span');
    name.textContent = p.seriesName;
    const value = document.createElement('b');
    value.textContent = valueText(Array.isArray(p.value) ? p.value[1] : p.value);
    row.append(dot, name, value);
    box.append(row);
  }
  return box;
}
