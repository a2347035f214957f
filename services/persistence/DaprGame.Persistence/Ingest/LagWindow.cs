namespace DaprGame.Persistence.Ingest;

/// <summary>The last <c>capacity</c> publish-to-visible delays, in milliseconds, for <c>p50</c>/<c>p99</c> on request.</summary>
internal sealed class LagWindow(int capacity = 65_536)
{
    private readonly double[] _samples = new double[capacity];
    private long _count;
    private double _max;

    public void Add(double milliseconds)
    {
        lock (_samples)
        {
            _samples[_count % _samples.Length] = milliseconds;
            _count++;
            _max = Math.Max(_max, milliseconds);
        }
    }

    public void Reset()
    {
        lock (_samples)
        {
            _count = 0;
            _max = 0;
        }
    }

    public (long Count, double P50, double P99, double Max) Read()
    {
        double[] copy;
        long count;
        double max;
        lock (_samples)
        {
            count = _count;
            max = _max;
            copy = _samples[..(int)Math.Min(_count, _samples.Length)];
        }
        if (copy.Length == 0)
        {
            return (0, 0, 0, 0);
        }
        Array.Sort(copy);
        return (count, copy[(int)((copy.Length - 1) * 0.5)], copy[(int)((copy.Length - 1) * 0.99)], max);
    }
}
