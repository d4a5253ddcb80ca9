"""Bar charts of events over time as inline SVG: drawn by the server, nothing for the browser
to fetch."""

from html import escape

SPARK_WIDTH, SPARK_HEIGHT = 96, 22


def bar_chart(buckets, width, height, label_format="%H:%M", axis=False):
    """An SVG bar per (start, count) bucket, scaled to the largest; each bar's title says its
    bucket and count, and the chart's title the total."""
    counts = [count for _start, count in buckets]
    peak = max(counts, default=0) or 1
    axis_height = 14 if axis else 0
    plot = height - axis_height
    step = width / max(len(buckets), 1)
    bar = max(step - 1, 1)
    bars = []
    for index, (start, count) in enumerate(buckets):
        tall = 0 if count == 0 else max(round(count / peak * (plot - 1)), 1)
        title = f"{start.strftime(label_format)}: {count} event{'s' if count != 1 else ''}"
        bars.append(
            f'<rect x="{index * step:.1f}" y="{plot - tall}" width="{bar:.1f}" height="{max(tall, 1)}"'
            f' class="{"bar" if count else "bar empty"}"><title>{escape(title)}</title></rect>'
        )
    labels = ""
    if axis and buckets:
        first, last = buckets[0][0].strftime(label_format), buckets[-1][0].strftime(label_format)
        labels = (
            f'<text x="0" y="{height - 2}" class="axis">{escape(first)}</text>'
            f'<text x="{width}" y="{height - 2}" class="axis" text-anchor="end">{escape(last)}</text>'
            f'<text x="{width / 2:.0f}" y="{height - 2}" class="axis" text-anchor="middle">peak {max(counts)}</text>'
        )
    total = sum(counts)
    return (
        f'<svg class="event-chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img"'
        f' aria-label="{total} events">{"".join(bars)}{labels}</svg>'
    )
