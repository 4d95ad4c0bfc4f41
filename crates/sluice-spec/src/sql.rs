//! SQL syntax checks at config time, with the parser DataFusion uses (sqlparser, generic
//! dialect). Whether the columns exist is only known when the data is read; whether the
//! text is SQL at all is known now, so `sluice validate` catches it.

use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

/// Parses `sql` as one SQL expression; the error message says what and where.
pub fn parse_expr(sql: &str) -> Result<(), String> {
    let dialect = GenericDialect {};
    let clean = |e: sqlparser::parser::ParserError| {
        e.to_string()
            .trim_start_matches("sql parser error: ")
            .to_string()
    };
    let mut parser = Parser::new(&dialect).try_with_sql(sql).map_err(clean)?;
    parser.parse_expr().map_err(clean)?;
    let next = parser.peek_token();
    if next.token != Token::EOF {
        return Err(format!(
            "unexpected `{}` after the expression at Line: {}, Column: {}",
            next.token, next.span.start.line, next.span.start.column
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_expressions_rejects_garbage() {
        assert!(parse_expr("quantity > 0 AND status <> 'void'").is_ok());
        assert!(parse_expr("avg(amount)").is_ok());
        assert!(parse_expr("\"weird col\" IS NOT NULL").is_ok());
        let e = parse_expr("amount > ").unwrap_err();
        assert!(e.contains("Expected"), "{e}");
        let e = parse_expr("a = 1 b").unwrap_err();
        assert!(e.contains("unexpected `b`"), "{e}");
    }
}
