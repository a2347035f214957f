using DaprGame.Trading.Domain.Matching;

namespace DaprGame.Trading.Domain.Tests.Matching;

public sealed class AllocationTests
{
    [Fact]
    public void Commands_allocate_nothing_once_the_pools_have_grown()
    {
        var book = new OrderBook(new BookOptions(InitialCapacity: 16));
        var listener = new NullListener();
        // The first pass grows the pools; the second repeats the same commands on the emptied book.
        RunPass(book, ref listener, new Random(42));
        var random = new Random(42);
        var before = GC.GetAllocatedBytesForCurrentThread();
        RunPass(book, ref listener, random);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(0, book.OrderCount);
        Assert.True(listener.Fills > 1_000, $"{listener.Fills} fills");
    }

    // No assertion inside the pass: xunit's Assert.Equal itself allocates.
    private static void RunPass(OrderBook book, ref NullListener listener, Random random)
    {
        for (var id = 1; id <= 20_000; id++)
        {
            var side = (Side)random.Next(2);
            var type = random.Next(10) switch
            {
                0 => OrderType.Market,
                1 => OrderType.ImmediateOrCancel,
                2 => OrderType.FillOrKill,
                3 => OrderType.PostOnly,
                _ => OrderType.Limit,
            };
            var price = 1_000 + random.Next(-30, 31);
            book.Submit(new NewOrder(id, random.Next(50), side, type, price, random.Next(1, 20)), ref listener);
            if (random.Next(3) == 0)
            {
                book.Cancel(id - random.Next(100), ref listener);
            }
            if (random.Next(5) == 0)
            {
                book.Replace(id - random.Next(100), price + random.Next(-3, 4), random.Next(1, 20), ref listener);
            }
        }
        for (var id = 1; id <= 20_000; id++)
        {
            book.Cancel(id, ref listener);
        }
    }
}
