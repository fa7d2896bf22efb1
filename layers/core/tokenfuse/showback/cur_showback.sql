-- tokenfuse showback from the Cost and Usage Report (CUR 2.0 / Data Exports), one query for Athena
-- (Trino) and DuckDB. Billed cost and tokens per team, feature and environment tag for one period.
-- {cur_table}: the CUR 2.0 table (Athena: "database"."table"; DuckDB: a view over the Parquet files).
-- Parameters, in order: the period's first instant and the first instant after it ('YYYY-MM-DD HH:MM:SS').
-- Tags are CUR 2.0's resource_tags map (user_<tag key>); a missing key is guarded, since Trino fails
-- on a subscript of a key the map lacks. Anthropic models bill as their own products
-- ("Claude ... (Amazon Bedrock Edition)"): both product codes are counted. CUR has no request count.
SELECT
  CASE WHEN contains(map_keys(resource_tags), 'user_team') THEN resource_tags['user_team'] END AS team,
  CASE WHEN contains(map_keys(resource_tags), 'user_feature') THEN resource_tags['user_feature'] END AS feature,
  CASE WHEN contains(map_keys(resource_tags), 'user_environment') THEN resource_tags['user_environment'] END
    AS environment,
  line_item_usage_account_id AS account_id,
  SUM(line_item_unblended_cost) AS cost_usd,
  SUM(CASE WHEN lower(line_item_usage_type) LIKE '%cache%read%' THEN line_item_usage_amount ELSE 0 END)
    AS cache_read_tokens,
  SUM(CASE WHEN lower(line_item_usage_type) LIKE '%cache%write%' THEN line_item_usage_amount ELSE 0 END)
    AS cache_write_tokens,
  SUM(CASE WHEN lower(line_item_usage_type) LIKE '%input%token%'
            AND lower(line_item_usage_type) NOT LIKE '%cache%' THEN line_item_usage_amount ELSE 0 END)
    AS input_tokens,
  SUM(CASE WHEN lower(line_item_usage_type) LIKE '%output%token%' THEN line_item_usage_amount ELSE 0 END)
    AS output_tokens
FROM {cur_table}
WHERE (line_item_product_code = 'AmazonBedrock'
       OR (contains(map_keys(product), 'product_name')
           AND product['product_name'] LIKE '%(Amazon Bedrock Edition)%'))
  AND line_item_line_item_type IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage')
  AND line_item_usage_start_date >= CAST(? AS TIMESTAMP)
  AND line_item_usage_start_date < CAST(? AS TIMESTAMP)
GROUP BY 1, 2, 3, 4
ORDER BY cost_usd DESC
