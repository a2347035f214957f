using System.Globalization;
using System.Text;
using System.Text.Json;

namespace DaprGame.Sidecar.PubSub;

/// <summary>
/// The subset of CEL that Dapr's routing-rule examples use, evaluated over the variable <c>event</c> (the CloudEvent):
/// field paths (<c>event.type</c>, <c>event.data.kind</c>, <c>event.data["k"]</c>), string/number/bool/null literals,
/// <c>== != &lt; &lt;= &gt; &gt;=</c>, <c>&amp;&amp; || !</c>, parentheses and <c>has(path)</c>. An expression outside the
/// subset is refused when the subscription starts, naming the rule, rather than silently never matching.
/// As in CEL, reading a field that is absent is an evaluation error (daprd then fails the delivery), unless under <c>has</c>.
/// </summary>
internal sealed class RouteExpression
{
    private readonly Node _root;

    private RouteExpression(string text, Node root)
    {
        Text = text;
        _root = root;
    }

    public string Text { get; }

    /// <exception cref="FormatException">The expression is not in the supported subset.</exception>
    public static RouteExpression Parse(string text)
    {
        var parser = new Parser(text);
        var root = parser.ParseExpression();
        parser.ExpectEnd();
        return new RouteExpression(text, root);
    }

    /// <exception cref="InvalidOperationException">The expression reads a missing field or does not yield a bool.</exception>
    public bool Matches(JsonElement cloudEvent)
    {
        var v = _root.Eval(cloudEvent);
        return v.Kind == Kind.Bool ? v.Bool : throw new InvalidOperationException($"routing rule '{Text}' did not evaluate to a bool");
    }

    private enum Kind
    {
        Null,
        Bool,
        Number,
        String,
        Other,
    }

    private readonly record struct Value(Kind Kind, bool Bool = false, double Number = 0, string? String = null, JsonElement Json = default)
    {
        public static Value From(JsonElement e) => e.ValueKind switch
        {
            JsonValueKind.True => new(Kind.Bool, Bool: true),
            JsonValueKind.False => new(Kind.Bool, Bool: false),
            JsonValueKind.Number => new(Kind.Number, Number: e.GetDouble()),
            JsonValueKind.String => new(Kind.String, String: e.GetString()),
            JsonValueKind.Null => new(Kind.Null),
            _ => new(Kind.Other, Json: e),
        };
    }

    private abstract class Node
    {
        public abstract Value Eval(JsonElement root);
    }

    private sealed class Literal(Value value) : Node
    {
        public override Value Eval(JsonElement root) => value;
    }

    private sealed class FieldPath(string text, List<string> segments) : Node
    {
        public override Value Eval(JsonElement root) =>
            TryResolve(root, out var e) ? Value.From(e) : throw new InvalidOperationException($"no such key in '{text}'");

        public bool TryResolve(JsonElement root, out JsonElement e)
        {
            e = root;
            foreach (var s in segments)
            {
                if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(s, out e))
                {
                    return false;
                }
            }
            return true;
        }
    }

    private sealed class Has(FieldPath path) : Node
    {
        public override Value Eval(JsonElement root) => new(Kind.Bool, Bool: path.TryResolve(root, out _));
    }

    private sealed class Not(Node inner) : Node
    {
        public override Value Eval(JsonElement root) => new(Kind.Bool, Bool: !AsBool(inner.Eval(root)));
    }

    private sealed class Logical(Node left, Node right, bool isAnd) : Node
    {
        public override Value Eval(JsonElement root)
        {
            var l = AsBool(left.Eval(root));
            if (isAnd ? !l : l)
            {
                return new(Kind.Bool, Bool: l);
            }
            return new(Kind.Bool, Bool: AsBool(right.Eval(root)));
        }
    }

    private sealed class Compare(Node left, Node right, string op) : Node
    {
        public override Value Eval(JsonElement root)
        {
            var l = left.Eval(root);
            var r = right.Eval(root);
            if (op is "==" or "!=")
            {
                var equal = l.Kind == r.Kind && l.Kind switch
                {
                    Kind.Null => true,
                    Kind.Bool => l.Bool == r.Bool,
                    Kind.Number => l.Number.Equals(r.Number),
                    Kind.String => string.Equals(l.String, r.String, StringComparison.Ordinal),
                    _ => l.Json.GetRawText() == r.Json.GetRawText(),
                };
                return new(Kind.Bool, Bool: op == "==" ? equal : !equal);
            }
            int order;
            if (l.Kind == Kind.Number && r.Kind == Kind.Number)
            {
                order = l.Number.CompareTo(r.Number);
            }
            else if (l.Kind == Kind.String && r.Kind == Kind.String)
            {
                order = string.CompareOrdinal(l.String, r.String);
            }
            else
            {
                throw new InvalidOperationException($"no such overload for '{op}' on {l.Kind} and {r.Kind}");
            }
            return new(Kind.Bool, Bool: op switch { "<" => order < 0, "<=" => order <= 0, ">" => order > 0, _ => order >= 0 });
        }
    }

    private static bool AsBool(Value v) => v.Kind == Kind.Bool ? v.Bool : throw new InvalidOperationException($"expected a bool, got {v.Kind}");

    private sealed class Parser(string text)
    {
        private int _pos;

        public Node ParseExpression()
        {
            var left = ParseAnd();
            while (Accept("||"))
            {
                left = new Logical(left, ParseAnd(), isAnd: false);
            }
            return left;
        }

        public void ExpectEnd()
        {
            SkipSpace();
            if (_pos < text.Length)
            {
                throw Error($"unexpected '{text[_pos..]}'");
            }
        }

        private Node ParseAnd()
        {
            var left = ParseUnary();
            while (Accept("&&"))
            {
                left = new Logical(left, ParseUnary(), isAnd: true);
            }
            return left;
        }

        private Node ParseUnary()
        {
            SkipSpace();
            if (_pos < text.Length && text[_pos] == '!' && !Peek("!="))
            {
                _pos++;
                return new Not(ParseUnary());
            }
            var left = ParsePrimary();
            foreach (var op in (ReadOnlySpan<string>)["==", "!=", "<=", ">=", "<", ">"])
            {
                if (Accept(op))
                {
                    return new Compare(left, ParsePrimary(), op);
                }
            }
            return left;
        }

        private Node ParsePrimary()
        {
            SkipSpace();
            if (_pos >= text.Length)
            {
                throw Error("unexpected end of expression");
            }
            var c = text[_pos];
            if (c == '(')
            {
                _pos++;
                var inner = ParseExpression();
                Expect(")");
                return inner;
            }
            if (c is '"' or '\'')
            {
                return new Literal(new Value(Kind.String, String: ReadString()));
            }
            if (char.IsAsciiDigit(c) || (c == '-' && _pos + 1 < text.Length && char.IsAsciiDigit(text[_pos + 1])))
            {
                var start = _pos++;
                while (_pos < text.Length && (char.IsAsciiDigit(text[_pos]) || text[_pos] is '.' or 'e' or 'E' or 'u'))
                {
                    _pos++;
                }
                var number = text[start.._pos].TrimEnd('u');
                return double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var n)
                    ? new Literal(new Value(Kind.Number, Number: n))
                    : throw Error($"bad number '{number}'");
            }
            var ident = ReadIdentifier();
            switch (ident)
            {
                case "true":
                    return new Literal(new Value(Kind.Bool, Bool: true));
                case "false":
                    return new Literal(new Value(Kind.Bool, Bool: false));
                case "null":
                    return new Literal(new Value(Kind.Null));
                case "has":
                    Expect("(");
                    SkipSpace();
                    var path = ParsePath(ReadIdentifier());
                    Expect(")");
                    return new Has(path);
                default:
                    return ParsePath(ident);
            }
        }

        private FieldPath ParsePath(string root)
        {
            if (root != "event")
            {
                throw Error($"unknown identifier '{root}' (only 'event' is declared)");
            }
            var start = _pos - root.Length;
            var segments = new List<string>();
            while (true)
            {
                if (Accept("."))
                {
                    segments.Add(ReadIdentifier());
                }
                else if (Accept("["))
                {
                    SkipSpace();
                    segments.Add(ReadString());
                    Expect("]");
                }
                else
                {
                    return new FieldPath(text[start.._pos].Trim(), segments);
                }
            }
        }

        private string ReadIdentifier()
        {
            SkipSpace();
            var start = _pos;
            while (_pos < text.Length && (char.IsAsciiLetterOrDigit(text[_pos]) || text[_pos] == '_'))
            {
                _pos++;
            }
            return _pos > start ? text[start.._pos] : throw Error(_pos < text.Length ? $"unexpected '{text[_pos]}'" : "unexpected end of expression");
        }

        private string ReadString()
        {
            var quote = text[_pos++];
            var sb = new StringBuilder();
            while (_pos < text.Length && text[_pos] != quote)
            {
                if (text[_pos] == '\\' && _pos + 1 < text.Length)
                {
                    _pos++;
                    sb.Append(text[_pos] switch { 'n' => '\n', 't' => '\t', var other => other });
                }
                else
                {
                    sb.Append(text[_pos]);
                }
                _pos++;
            }
            if (_pos >= text.Length)
            {
                throw Error("unterminated string");
            }
            _pos++;
            return sb.ToString();
        }

        private bool Peek(string token) => string.CompareOrdinal(text, _pos, token, 0, token.Length) == 0;

        private bool Accept(string token)
        {
            SkipSpace();
            if (!Peek(token))
            {
                return false;
            }
            _pos += token.Length;
            return true;
        }

        private void Expect(string token)
        {
            if (!Accept(token))
            {
                throw Error($"expected '{token}'");
            }
        }

        private void SkipSpace()
        {
            while (_pos < text.Length && char.IsWhiteSpace(text[_pos]))
            {
                _pos++;
            }
        }

        private FormatException Error(string what) =>
            new($"routing rule '{text}' is not supported by the local sidecar's CEL subset: {what} at position {_pos}");
    }
}
