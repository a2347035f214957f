using System.Diagnostics;
using DaprGame.Persistence.Domain.Backup;
using static DaprGame.Persistence.Domain.Tests.Backup.BackupSamples;

namespace DaprGame.Persistence.Domain.Tests.Backup;

/// <summary>Damage anywhere in a file is detected, by the verifier and by the reader, and never restores something else.</summary>
public sealed class BackupTamperTests(ITestOutputHelper output)
{
    private const int SmallChunk = 256;

    private static async Task<byte[]> SmallArchiveAsync(BackupKey key)
    {
        var log = SampleLog(rounds: 1);
        var (bytes, _) = await WriteAsync(log.Records, Snapshot(log.Records), key, chunkSize: SmallChunk);
        return bytes;
    }

    /// <summary>Both ways in must refuse the file; returns the verifier's reason.</summary>
    private static async Task<BackupFailure> RefusedAsync(byte[] damaged, BackupKey key, string what)
    {
        var verification = await VerifyAsync(damaged, key, rebuild: true);
        Assert.False(verification.IsValid, $"{what} was not detected by the verifier");
        try
        {
            await ReadAsync(damaged, key);
            Assert.Fail($"{what} was read back as if intact");
        }
        catch (BackupException)
        {
        }
        return verification.Failure;
    }

    private void Report(string title, Dictionary<BackupFailure, int> mix, Stopwatch watch) =>
        output.WriteLine($"{title}: {string.Join(", ", mix.OrderByDescending(p => p.Value).Select(p => $"{p.Key} {p.Value}"))} ({watch.ElapsedMilliseconds} ms)");

    [Fact]
    public async Task A_flipped_bit_at_every_byte_of_a_small_archive_is_detected()
    {
        var key = Key(10);
        var bytes = await SmallArchiveAsync(key);
        var frames = FrameOffsets(bytes, SmallChunk);
        Assert.True(frames.Count > 8, $"only {frames.Count - 1} chunks");
        Assert.True((await VerifyAsync(bytes, key, rebuild: true)).IsValid);

        var mix = new Dictionary<BackupFailure, int>();
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < bytes.Length; i++)
        {
            var damaged = bytes.ToArray();
            damaged[i] ^= (byte)(1 << (i % 8));
            var failure = await RefusedAsync(damaged, key, $"a flip at byte {i}");
            mix[failure] = mix.GetValueOrDefault(failure) + 1;
        }
        Report($"{bytes.Length} bytes, {frames.Count - 1} chunks, one flipped bit per byte", mix, watch);

        Assert.DoesNotContain(BackupFailure.None, mix.Keys);
        Assert.DoesNotContain(BackupFailure.ChainBroken, mix.Keys);            // damage never reaches the content checks
        Assert.DoesNotContain(BackupFailure.WrongKey, mix.Keys);               // a damaged fingerprint fails the checksum
        Assert.True(mix[BackupFailure.Tampered] > bytes.Length * 9 / 10);
    }

    [Fact]
    public async Task Flipped_bits_at_2000_seeded_positions_of_a_larger_archive_are_detected()
    {
        var key = Key(11);
        var log = SampleLog(rounds: 12);
        var (bytes, _) = await WriteAsync(log.Records, Snapshot(log.Records), key, chunkSize: 1024);
        var random = new Random(2026);

        var mix = new Dictionary<BackupFailure, int>();
        var watch = Stopwatch.StartNew();
        for (var n = 0; n < 2000; n++)
        {
            var damaged = bytes.ToArray();
            var at = random.Next(damaged.Length);
            damaged[at] ^= (byte)(1 << random.Next(8));
            var failure = await RefusedAsync(damaged, key, $"a flip at byte {at}");
            mix[failure] = mix.GetValueOrDefault(failure) + 1;
        }
        Report($"{bytes.Length} bytes, 2,000 seeded flips", mix, watch);
        Assert.DoesNotContain(BackupFailure.None, mix.Keys);
    }

    [Fact]
    public async Task Truncation_at_every_length_is_detected_and_reported_as_truncation()
    {
        var key = Key(12);
        var bytes = await SmallArchiveAsync(key);
        var frames = FrameOffsets(bytes, SmallChunk);

        var mix = new Dictionary<BackupFailure, int>();
        var watch = Stopwatch.StartNew();
        for (var length = 0; length < bytes.Length; length++)
        {
            var failure = await RefusedAsync(bytes[..length], key, $"a cut at {length}");
            mix[failure] = mix.GetValueOrDefault(failure) + 1;
        }
        Report($"{bytes.Length} bytes, every truncation", mix, watch);

        Assert.Equal([BackupFailure.Truncated], mix.Keys);
        foreach (var boundary in frames)
        {
            var verification = await VerifyAsync(bytes[..(int)boundary], key);
            Assert.Equal(BackupFailure.Truncated, verification.Failure);
        }
        var midChunk = (int)(frames[2] + 100);
        Assert.Equal(BackupFailure.Truncated, (await VerifyAsync(bytes[..midChunk], key)).Failure);
    }

    [Fact]
    public async Task Dropping_swapping_repeating_or_appending_chunks_is_detected()
    {
        var key = Key(13);
        var bytes = await SmallArchiveAsync(key);
        var frames = FrameOffsets(bytes, SmallChunk);
        var frame = (int)(frames[1] - frames[0]);                              // every frame but the last has this size
        byte[] Frame(int i) => bytes[(int)frames[i]..(int)frames[i + 1]];
        var header = bytes[..(int)frames[0]];
        var rest = bytes[(int)frames[2]..];

        var dropped = (byte[])[.. header, .. Frame(1), .. rest];
        var swapped = (byte[])[.. header, .. Frame(1), .. Frame(0), .. rest];
        var repeated = (byte[])[.. header, .. Frame(0), .. Frame(0), .. Frame(1), .. rest];
        var appended = (byte[])[.. bytes, 0];
        var lastDropped = (byte[])[.. bytes[..(int)frames[^2]], .. bytes[^32..]];

        Assert.Equal(frame, Frame(3).Length);
        Assert.Equal(BackupFailure.Tampered, await RefusedAsync(dropped, key, "a dropped chunk"));
        Assert.Equal(BackupFailure.Tampered, await RefusedAsync(swapped, key, "swapped chunks"));
        Assert.Equal(BackupFailure.Tampered, await RefusedAsync(repeated, key, "a repeated chunk"));
        Assert.Equal(BackupFailure.Tampered, await RefusedAsync(appended, key, "an appended byte"));
        // The trailer is then read as the next frame's length: refused as tampered (or, rarely, as truncated).
        Assert.Contains(await RefusedAsync(lastDropped, key, "a dropped final chunk"), new[] { BackupFailure.Tampered, BackupFailure.Truncated });
    }

    [Fact]
    public async Task A_chunk_moved_from_another_archive_under_the_same_key_is_detected()
    {
        var key = Key(14);
        var a = await SmallArchiveAsync(key);
        var b = await SmallArchiveAsync(key);
        var fa = FrameOffsets(a, SmallChunk);
        var fb = FrameOffsets(b, SmallChunk);

        var mixed = (byte[])[.. a[..(int)fa[1]], .. b[(int)fb[1]..(int)fb[2]], .. a[(int)fa[2]..]];
        var tampered = await VerifyAsync(mixed, key);

        Assert.Equal((BackupFailure.Tampered, (long?)1, (long?)fa[1]), (tampered.Failure, tampered.Chunk, tampered.Offset));
    }
}
