using DaprGame.Persistence.Domain.Log;
using static DaprGame.Persistence.Domain.Tests.TestEvents;

namespace DaprGame.Persistence.Domain.Tests.Log;

public sealed class VerificationTests
{
    private static EventLog SampleLog()
    {
        var log = new EventLog();
        log.Append([ChatPosted("lobby", 1, "a", "hello"), WalletChanged("bob", 1, "currency:GOLD", 10), Fill("sword-GOLD", 1, "a", "b", 100, 1, T0)]);
        log.Rollback(new RollbackMarker(1, "ops", "bad fill", T0));
        log.Append([MatchEnded("m-1", 1, "a", "b"), ChatPosted("lobby", 2, "b", "hey")]);
        return log;
    }

    [Fact]
    public void A_clean_log_verifies()
    {
        Assert.Equal(ChainReport.Valid, ChainVerifier.Verify(SampleLog().Records));
        Assert.Equal(ChainReport.Valid, ChainVerifier.Verify([]));
    }

    [Fact]
    public void Flipping_a_byte_of_any_records_data_is_reported_at_that_position()
    {
        var records = SampleLog().Records;
        for (var i = 0; i < records.Count; i++)
        {
            var data = records[i].Data.ToArray();
            data[data.Length / 2] ^= 0x01;
            var tampered = records.ToList();
            tampered[i] = records[i] with { Data = data };

            var report = ChainVerifier.Verify(tampered);

            Assert.False(report.IsValid);
            Assert.Equal(i + 1, report.FirstBadPosition);
        }
    }

    [Fact]
    public void Flipping_a_byte_of_any_records_hash_is_reported_at_that_position()
    {
        var records = SampleLog().Records;
        for (var i = 0; i < records.Count; i++)
        {
            var hash = records[i].Hash.ToArray();
            hash[i % hash.Length] ^= 0x80;
            var tampered = records.ToList();
            tampered[i] = records[i] with { Hash = hash };

            Assert.Equal(i + 1, ChainVerifier.Verify(tampered).FirstBadPosition);
        }
    }

    [Fact]
    public void Editing_a_field_rehashing_the_record_and_dropping_or_reordering_records_are_all_reported()
    {
        var records = SampleLog().Records.ToList();
        var edited = records[2] with { StreamId = "trading/book/other" };
        var rehashed = records.ToList();
        rehashed[2] = edited with { Hash = RecordHash.Compute(edited) };

        Assert.Equal(4, ChainVerifier.Verify(rehashed).FirstBadPosition);        // the next link no longer matches
        Assert.Equal(3, ChainVerifier.Verify(records.Where(r => r.Position != 3)).FirstBadPosition);
        Assert.Equal(2, ChainVerifier.Verify([records[0], records[2], records[1]]).FirstBadPosition);
        Assert.Equal(1, ChainVerifier.Verify([records[0] with { Flags = RecordFlags.Gap }]).FirstBadPosition);
    }
}
